import { and, count, eq, gt, inArray, isNull } from "drizzle-orm";
import { authCodes, subscribers } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../lib/errors.ts";
import { hashToken, newToken } from "../../lib/tokens.ts";
import { generateBriefings } from "../briefings/index.ts";
import {
  createSubscriber,
  findSubscriberByEmail,
  type ProfilePatch,
  profilePatchSchema,
  type Subscriber,
  type SubscriberInput,
} from "../profiles/index.ts";

const CONFIRM_TTL_MS = 24 * 3600_000;
// Readers who left (unsubscribed) or whose address bounced may sign up again: they confirm by the
// emailed link like a new reader (sign-up answered "already active" and they could never return).
const RETURNING = new Set(["unsubscribed", "bounced"]);
const AWAITING_CONFIRMATION = new Set(["pending", ...RETURNING]);
// Sign-ups again for a pending address this soon after its last link (a double click, a retry, a
// script) send no new email: the link already sent still works.
const RESEND_AFTER_MS = 60_000;
// Confirmation emails one address gets in a day, whoever fills the form: without a cap anyone could
// have Daybreak mail an address every minute.
const CONFIRMS_PER_DAY = 5;

/**
 * Double opt-in: a pending subscriber and a confirmation link by email (none again within a
 * minute, at most five a day). The answer is the same whether or not the address was already
 * subscribed, so the form reveals nothing.
 */
export async function requestSignup(
  deps: Pick<Deps, "db" | "clock" | "mailer" | "templates" | "config">,
  input: SubscriberInput,
): Promise<{ status: "sent" | "already_sent" | "already_active" }> {
  // A reader coming back keeps the profile they had: anyone may type their address into the form,
  // and nothing about them changes until the address's owner follows the link (they can edit it
  // from their first email's preferences link).
  const subscriber = await findOrCreateSubscriber(deps, input);
  if (!AWAITING_CONFIRMATION.has(subscriber.status)) return { status: "already_active" };
  // A reader never confirmed gets the profile of the form whose link they follow (a typo fixed in
  // a second form, once its own email is out); a returning reader keeps theirs.
  const { email: _, ...details } = input;
  const carried = subscriber.status === "pending" ? details : null;
  const code = newToken();
  const issued = await issueConfirmCode(deps, subscriber.id, code, carried);
  if (issued.status !== "issued") return { status: issued.status };
  const confirmUrl = `${deps.config.publicBaseUrl}/signup/confirm/${code}`;
  const template = await deps.templates.get("confirm");
  // Only what the form validated to a format: role, industry and interests are free text that
  // anyone may type next to someone else's address, and would reach that inbox in our name.
  const view = {
    deliveryTime: carried?.deliveryTime ?? subscriber.deliveryTime,
    timezone: carried?.timezone ?? subscriber.timezone,
    confirmUrl,
  };
  try {
    await deps.mailer.send({
      to: subscriber.email,
      subject: "Confirm your Daybreak subscription",
      html: template.render(view),
      text: `Confirm your Daybreak subscription (a daily briefing at ${view.deliveryTime}, ${view.timezone}):\n${confirmUrl}\n\nIf you did not ask for this, ignore this email: nothing is sent without your confirmation. The link works for 24 hours.\n`,
    });
  } catch (err) {
    // Never sent: a retry must send a link, not be told one went out a moment ago.
    await deps.db.delete(authCodes).where(eq(authCodes.id, issued.id));
    throw err;
  }
  return { status: "sent" };
}

/** The subscriber for this address, created pending when there is none. */
async function findOrCreateSubscriber(deps: Pick<Deps, "db">, input: SubscriberInput): Promise<Subscriber> {
  const existing = await findSubscriberByEmail(deps, input.email);
  if (existing) return existing;
  try {
    return (await createSubscriber(deps, input, { status: "pending" })).subscriber;
  } catch (err) {
    // A parallel sign-up for the same address inserted it after our look-up: go on with that one,
    // so this request answers as the other does.
    if (!(err instanceof AppError && err.code === "CONFLICT")) throw err;
    const created = await findSubscriberByEmail(deps, input.email);
    if (!created) throw err;
    return created;
  }
}

/** Stores a confirmation code for a pending subscriber, unless one was issued within RESEND_AFTER_MS. */
async function issueConfirmCode(
  deps: Pick<Deps, "db" | "clock">,
  subscriberId: string,
  code: string,
  details: ProfilePatch | null,
): Promise<{ status: "issued"; id: string } | { status: "already_sent" | "already_active" }> {
  return deps.db.transaction(async (tx) => {
    // The row lock queues sign-ups for one address, so each sees the code the one before it stored.
    const [locked] = await tx
      .select({ status: subscribers.status })
      .from(subscribers)
      .where(eq(subscribers.id, subscriberId))
      .for("update");
    if (!AWAITING_CONFIRMATION.has(locked?.status ?? "")) return { status: "already_active" };
    // Read after the lock is held: under READ COMMITTED this statement sees what the holder committed.
    const now = deps.clock.now();
    const [recent] = await tx
      .select({ id: authCodes.id })
      .from(authCodes)
      .where(
        and(
          eq(authCodes.subscriberId, subscriberId),
          eq(authCodes.purpose, "confirm"),
          isNull(authCodes.usedAt),
          gt(authCodes.createdAt, new Date(now.getTime() - RESEND_AFTER_MS)),
        ),
      )
      .limit(1);
    if (recent) return { status: "already_sent" };
    const [{ today }] = (await tx
      .select({ today: count() })
      .from(authCodes)
      .where(
        and(
          eq(authCodes.subscriberId, subscriberId),
          eq(authCodes.purpose, "confirm"),
          gt(authCodes.createdAt, new Date(now.getTime() - 24 * 3600_000)),
        ),
      )) as [{ today: number }];
    if (today >= CONFIRMS_PER_DAY) return { status: "already_sent" };
    const [row] = await tx
      .insert(authCodes)
      .values({
        subscriberId,
        codeHash: hashToken(code),
        purpose: "confirm",
        details,
        // From the clock, like the expiry, so the resend window is measured on one time line.
        createdAt: now,
        expiresAt: new Date(now.getTime() + CONFIRM_TTL_MS),
      })
      .returning({ id: authCodes.id });
    return { status: "issued", id: row!.id };
  });
}

/**
 * Confirms a pending subscriber by their link (before it expires) and builds their first briefing.
 * Following it again answers "already confirmed" while it has not expired.
 */
export async function confirmSignup(
  deps: Pick<Deps, "db" | "clock" | "logger" | "llm" | "summaryCache">,
  code: string,
): Promise<{ subscriberId: string; briefing: boolean; alreadyConfirmed: boolean }> {
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
      .returning({ subscriberId: authCodes.subscriberId, details: authCodes.details });
    if (!row) return null;
    // The profile this link's own form sent, for a reader who never confirmed (checked again: it
    // was stored as JSON).
    const details = row.details ? profilePatchSchema.safeParse(row.details) : null;
    if (details?.success)
      await tx
        .update(subscribers)
        .set({ ...details.data, updatedAt: now })
        .where(and(eq(subscribers.id, row.subscriberId), eq(subscribers.status, "pending")));
    await tx
      .update(subscribers)
      .set({ status: "active", confirmedAt: now, updatedAt: now })
      .where(
        and(eq(subscribers.id, row.subscriberId), inArray(subscribers.status, [...AWAITING_CONFIRMATION])),
      );
    return row.subscriberId;
  });
  if (!subscriberId) {
    // Mail scanners open links before the reader does: a link used already, still within its day,
    // whose reader is active, says so instead of "not valid".
    const [used] = await deps.db
      .select({ subscriberId: authCodes.subscriberId })
      .from(authCodes)
      .innerJoin(subscribers, eq(subscribers.id, authCodes.subscriberId))
      .where(
        and(
          eq(authCodes.codeHash, hashToken(code)),
          eq(authCodes.purpose, "confirm"),
          gt(authCodes.expiresAt, now),
          eq(subscribers.status, "active"),
        ),
      );
    if (used) return { subscriberId: used.subscriberId, briefing: false, alreadyConfirmed: true };
    throw new AppError("NOT_FOUND", "this confirmation link is not valid (expired or unknown)");
  }
  const r = await generateBriefings(deps, { subscriberIds: [subscriberId] });
  return { subscriberId, briefing: r.generated > 0, alreadyConfirmed: false };
}
