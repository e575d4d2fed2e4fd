import { and, eq, lte, or, sql } from "drizzle-orm";
import { deliveries } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { describeError } from "../../lib/errors.ts";
import { localParts } from "../../lib/time.ts";
import { getBriefingForDate } from "../briefings/index.ts";
import { activeSubscribers, linkToken, type Subscriber } from "../profiles/index.ts";
import { briefingEmailModel, renderBriefingEmail } from "./briefing-email.ts";

export type Delivery = typeof deliveries.$inferSelect;
export type SendSummary = { sent: number; failed: number; skipped: number };

const MAX_ATTEMPTS = 5;
// A send takes seconds; a claim this old belongs to a process that is gone.
const STALE_CLAIM_MS = 10 * 60_000;

/** Signed links every email carries: manage preferences, unsubscribe. */
export function emailLinks(config: Deps["config"], subscriberId: string) {
  return {
    unsubscribeUrl: `${config.publicBaseUrl}/unsubscribe/${linkToken(config.linkSecret, "unsubscribe", subscriberId)}`,
    preferencesUrl: `${config.publicBaseUrl}/preferences/${linkToken(config.linkSecret, "preferences", subscriberId)}`,
  };
}

function unsubscribeMailbox(config: Deps["config"]): string {
  const domain = config.MAIL_FROM.match(/@([\w.-]+)/)?.[1] ?? new URL(config.publicBaseUrl).hostname;
  return `unsubscribe@${domain}`;
}

/** Whether the subscriber's delivery time has come on their local date. */
export function isDue(subscriber: Pick<Subscriber, "timezone" | "deliveryTime">, now: Date) {
  const local = localParts(now, subscriber.timezone);
  return { due: local.time >= subscriber.deliveryTime, date: local.date };
}

/**
 * Emails every briefing that is due now. A delivery row, unique per (subscriber, local date), is
 * claimed before sending, so however often this runs, and by however many processes, each
 * subscriber gets one email a day.
 */
export async function sendDueBriefings(
  deps: Pick<Deps, "db" | "clock" | "logger" | "mailer" | "templates" | "config">,
  opts: { date?: string; subscriberIds?: string[] } = {},
): Promise<SendSummary> {
  const now = deps.clock.now();
  const summary: SendSummary = { sent: 0, failed: 0, skipped: 0 };
  for (const subscriber of await activeSubscribers(deps, opts.subscriberIds)) {
    const { due, date } = isDue(subscriber, now);
    if (!opts.date && !due) continue;
    const outcome = await deliverBriefing(deps, subscriber, opts.date ?? date);
    summary[outcome.status === "sent" ? "sent" : outcome.status === "failed" ? "failed" : "skipped"]++;
  }
  return summary;
}

export type DeliveryOutcome =
  | { status: "sent"; messageId: string; location?: string }
  | { status: "failed"; error: string; permanent: boolean }
  | { status: "skipped"; reason: "already_sent" | "in_progress" | "no_briefing" | "retry_later" };

export async function deliverBriefing(
  deps: Pick<Deps, "db" | "clock" | "logger" | "mailer" | "templates" | "config">,
  subscriber: Subscriber,
  date: string,
): Promise<DeliveryOutcome> {
  let briefing: Awaited<ReturnType<typeof getBriefingForDate>>;
  try {
    briefing = await getBriefingForDate(deps, subscriber.id, date);
  } catch {
    return { status: "skipped", reason: "no_briefing" };
  }
  await deps.db
    .insert(deliveries)
    .values({ subscriberId: subscriber.id, briefingId: briefing.id, localDate: date })
    .onConflictDoNothing();
  const now = deps.clock.now();
  // The claim: only one process moves a row from queued (or a due retry) to sending. A row left in
  // sending by a process that died is claimed again once its claim is stale: the day is never
  // skipped, and the resend carries the same Message-ID, which mail providers collapse.
  const [claimed] = await deps.db
    .update(deliveries)
    .set({
      status: "sending",
      attempts: sql`${deliveries.attempts} + 1`,
      claimedAt: now,
      briefingId: briefing.id,
    })
    .where(
      and(
        eq(deliveries.subscriberId, subscriber.id),
        eq(deliveries.localDate, date),
        eq(deliveries.channel, "email"),
        or(
          eq(deliveries.status, "queued"),
          and(eq(deliveries.status, "failed_retryable"), lte(deliveries.nextAttemptAt, now)),
          and(
            eq(deliveries.status, "sending"),
            lte(deliveries.claimedAt, new Date(now.getTime() - STALE_CLAIM_MS)),
          ),
        ),
      ),
    )
    .returning();
  if (!claimed) {
    const [row] = await deps.db
      .select({ status: deliveries.status })
      .from(deliveries)
      .where(and(eq(deliveries.subscriberId, subscriber.id), eq(deliveries.localDate, date)));
    const reason =
      row?.status === "sent" ? "already_sent" : row?.status === "sending" ? "in_progress" : "retry_later";
    return { status: "skipped", reason };
  }
  const domain = new URL(deps.config.publicBaseUrl).hostname || "daybreak.localhost";
  // One Message-ID per delivery, whatever the attempt: a resend after a crash is recognisably the same email.
  const messageId = `<${claimed.id}@${domain}>`;
  try {
    const template = await deps.templates.get("briefing");
    const links = emailLinks(deps.config, subscriber.id);
    const email = renderBriefingEmail(template, briefingEmailModel(briefing, subscriber, links));
    const sent = await deps.mailer.send({
      to: subscriber.email,
      ...email,
      messageId,
      headers: {
        // RFC 8058 one-click unsubscribe, with a mailto for clients that only know RFC 2369.
        "List-Unsubscribe": `<${links.unsubscribeUrl}>, <mailto:${unsubscribeMailbox(deps.config)}?subject=unsubscribe>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
    });
    await deps.db
      .update(deliveries)
      .set({ status: "sent", sentAt: deps.clock.now(), messageId: sent.messageId, lastError: null })
      .where(eq(deliveries.id, claimed.id));
    return { status: "sent", messageId: sent.messageId, location: sent.location };
  } catch (err) {
    const error = describeError(err);
    const code = (err as { responseCode?: number }).responseCode;
    const permanent = (code !== undefined && code >= 500) || claimed.attempts >= MAX_ATTEMPTS;
    const backoffMs = 60_000 * 2 ** Math.min(claimed.attempts, 6);
    await deps.db
      .update(deliveries)
      .set({
        status: permanent ? "failed_permanent" : "failed_retryable",
        lastError: error.slice(0, 500),
        nextAttemptAt: permanent ? null : new Date(deps.clock.now().getTime() + backoffMs),
      })
      .where(eq(deliveries.id, claimed.id));
    deps.logger.warn({ deliveryId: claimed.id, error, permanent }, "briefing email failed");
    return { status: "failed", error, permanent };
  }
}
