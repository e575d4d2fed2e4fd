import { and, eq, gt, isNull } from "drizzle-orm";
import { authCodes, subscribers } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../lib/errors.ts";
import { hashToken, newToken } from "../../lib/tokens.ts";
import { generateBriefings } from "../briefings/index.ts";
import { createSubscriber, findSubscriberByEmail, type SubscriberInput } from "../profiles/index.ts";

const CONFIRM_TTL_MS = 24 * 3600_000;

/**
 * Double opt-in: a pending subscriber and a single-use confirmation link by email. The answer is
 * the same whether or not the address was already subscribed, so the form reveals nothing.
 */
export async function requestSignup(
  deps: Pick<Deps, "db" | "clock" | "mailer" | "templates" | "config">,
  input: SubscriberInput,
): Promise<{ status: "sent" | "already_active" }> {
  const existing = await findSubscriberByEmail(deps, input.email);
  if (existing && existing.status !== "pending") return { status: "already_active" };
  const subscriber = existing ?? (await createSubscriber(deps, input, { status: "pending" })).subscriber;
  const code = newToken();
  await deps.db.insert(authCodes).values({
    subscriberId: subscriber.id,
    codeHash: hashToken(code),
    purpose: "confirm",
    expiresAt: new Date(deps.clock.now().getTime() + CONFIRM_TTL_MS),
  });
  const confirmUrl = `${deps.config.publicBaseUrl}/signup/confirm/${code}`;
  const template = await deps.templates.get("confirm");
  const view = {
    role: subscriber.role,
    industry: subscriber.industry,
    deliveryTime: subscriber.deliveryTime,
    timezone: subscriber.timezone,
    confirmUrl,
  };
  await deps.mailer.send({
    to: subscriber.email,
    subject: "Confirm your Daybreak subscription",
    html: template.render(view),
    text: `Confirm your Daybreak subscription (a daily briefing for a ${view.role} in ${view.industry}, at ${view.deliveryTime} ${view.timezone}):\n${confirmUrl}\n\nIf you did not ask for this, ignore this email. The link works for 24 hours.\n`,
  });
  return { status: "sent" };
}

/** Confirms a pending subscriber by their link (once, before it expires) and builds their first briefing. */
export async function confirmSignup(
  deps: Pick<Deps, "db" | "clock" | "logger" | "llm" | "summaryCache">,
  code: string,
): Promise<{ subscriberId: string; briefing: boolean }> {
  const now = deps.clock.now();
  const subscriberId = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(authCodes)
      .set({ usedAt: now })
      .where(
        and(
          eq(authCodes.codeHash, hashToken(code)),
          eq(authCodes.purpose, "confirm"),
          isNull(authCodes.usedAt),
          gt(authCodes.expiresAt, now),
        ),
      )
      .returning({ subscriberId: authCodes.subscriberId });
    if (!row)
      throw new AppError("NOT_FOUND", "this confirmation link is not valid (used, expired or unknown)");
    await tx
      .update(subscribers)
      .set({ status: "active", confirmedAt: now, updatedAt: now })
      .where(and(eq(subscribers.id, row.subscriberId), eq(subscribers.status, "pending")));
    return row.subscriberId;
  });
  const r = await generateBriefings(deps, { subscriberIds: [subscriberId] });
  return { subscriberId, briefing: r.generated > 0 };
}
