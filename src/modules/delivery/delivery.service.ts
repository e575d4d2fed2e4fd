import { and, eq, gt, inArray, lte, or, sql } from "drizzle-orm";
import { deliveries, subscribers } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import type { SendFailure } from "../../integrations/mail/mailer.ts";
import { describeError } from "../../lib/errors.ts";
import { localParts } from "../../lib/time.ts";
import { type BriefingView, getBriefingForDate } from "../briefings/index.ts";
import { activeSubscribers, linkToken, type Subscriber } from "../profiles/index.ts";
import { briefingEmailModel, renderBriefingEmail, storyLinkUrls } from "./briefing-email.ts";
import { CATCH_UP_MS } from "./due.service.ts";

export type Delivery = typeof deliveries.$inferSelect;
export type SendSummary = { sent: number; failed: number; skipped: number };

// Across ticks: 1, 2, 4, 8, 16, then every 30 minutes: about four hours of retrying in all, so a
// relay down or refusing us for a morning's first hours still delivers that day's briefing.
const MAX_ATTEMPTS = 12;
const MAX_BACKOFF_MS = 30 * 60_000;
// Within one run, a lost connection or a 4xx is tried again this many times, after these pauses.
const IN_RUN_RETRY_MS = [200, 1_000];

/** Signed links every email carries: manage preferences, unsubscribe, and each story's links. */
export function emailLinks(config: Deps["config"], subscriberId: string) {
  return {
    unsubscribeUrl: `${config.publicBaseUrl}/unsubscribe/${linkToken(config.linkSecret, "unsubscribe", subscriberId)}`,
    preferencesUrl: `${config.publicBaseUrl}/preferences/${linkToken(config.linkSecret, "preferences", subscriberId)}`,
    storyLinks: storyLinkUrls(config, subscriberId),
  };
}

/** Whether the subscriber's delivery time has come on their local date. */
export function isDue(
  subscriber: Pick<Subscriber, "timezone" | "deliveryTime" | "createdAt" | "confirmedAt">,
  now: Date,
): { due: boolean; date: string } {
  const local = localParts(now, subscriber.timezone);
  if (local.time >= subscriber.deliveryTime) return { due: true, date: local.date };
  // Yesterday's, when its delivery time passed within CATCH_UP_MS and the reader had joined by
  // then (as claimDueDeliveries plans it): "YYYY-MM-DD HH:MM" strings compare in time order.
  const yesterday = new Date(Date.parse(`${local.date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const owed = `${yesterday} ${subscriber.deliveryTime}`;
  const at = (t: Date) => {
    const p = localParts(t, subscriber.timezone);
    return `${p.date} ${p.time}`;
  };
  const joined = subscriber.confirmedAt ?? subscriber.createdAt;
  if (at(new Date(now.getTime() - CATCH_UP_MS)) < owed && at(joined) <= owed)
    return { due: true, date: yesterday };
  return { due: false, date: local.date };
}

/**
 * Emails every briefing that is due now. A delivery row, unique per (subscriber, local date), is
 * claimed before sending, so however often this runs, and by however many processes, each
 * subscriber gets one email a day.
 */
export async function sendDueBriefings(
  deps: DeliveryDeps,
  opts: { date?: string; subscriberIds?: string[]; retryDelaysMs?: number[] } = {},
): Promise<SendSummary> {
  const now = deps.clock.now();
  const summary: SendSummary = { sent: 0, failed: 0, skipped: 0 };
  for (const subscriber of await activeSubscribers(deps, opts.subscriberIds)) {
    const { due, date } = isDue(subscriber, now);
    if (!opts.date && !due) continue;
    const outcome = await deliverBriefing(deps, subscriber, opts.date ?? date, opts);
    summary[outcome.status === "sent" ? "sent" : outcome.status === "failed" ? "failed" : "skipped"]++;
  }
  return summary;
}

export type DeliveryOutcome =
  | { status: "sent"; messageId: string; location?: string }
  | { status: "failed"; error: string; permanent: boolean }
  | {
      status: "skipped";
      reason: "already_sent" | "in_progress" | "no_briefing" | "retry_later" | "later_date_sent";
    };

type DeliveryDeps = Pick<
  Deps,
  "db" | "clock" | "logger" | "mailer" | "templates" | "config" | "summaryCache"
>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One subscriber's email for one local date, at most once. The row moves
 *   queued -> rendered (claimed by this process; nothing handed to the relay yet)
 *          -> sending  (the relay holds the whole message; recorded just before its end mark)
 *          -> sent,
 * or to failed_retryable / failed_permanent. A process that dies in 'rendered' sent nothing, so
 * the row is claimed again once stale and the day is not skipped; one that dies in 'sending' may
 * have delivered, so the row is closed as sent and never mailed twice.
 */
export async function deliverBriefing(
  deps: DeliveryDeps,
  subscriber: Subscriber,
  date: string,
  opts: {
    retryDelaysMs?: number[];
    /** The briefing when the caller read it with a batch (null: it has none); else read here. */
    briefing?: BriefingView | null;
  } = {},
): Promise<DeliveryOutcome> {
  let briefing: BriefingView;
  if (opts.briefing !== undefined) {
    if (!opts.briefing) return { status: "skipped", reason: "no_briefing" };
    briefing = opts.briefing;
  } else {
    try {
      briefing = await getBriefingForDate(deps, subscriber.id, date);
    } catch {
      return { status: "skipped", reason: "no_briefing" };
    }
  }
  // A subscriber who moved west during the day is back on an earlier local date: that date's
  // briefing would be a second email in the same morning.
  const [later] = await deps.db
    .select({ localDate: deliveries.localDate })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.subscriberId, subscriber.id),
        eq(deliveries.channel, "email"),
        gt(deliveries.localDate, date),
        inArray(deliveries.status, ["rendered", "sending", "sent"]),
      ),
    )
    .limit(1);
  if (later) return { status: "skipped", reason: "later_date_sent" };

  await deps.db
    .insert(deliveries)
    .values({ subscriberId: subscriber.id, briefingId: briefing.id, localDate: date })
    .onConflictDoNothing();
  const now = deps.clock.now();
  // A send takes seconds; a claim older than the configured timeout (10 minutes by default)
  // belongs to a process that is gone.
  const stale = new Date(now.getTime() - deps.config.DELIVERY_CLAIM_TIMEOUT_SECONDS * 1000);
  const thisDelivery = and(
    eq(deliveries.subscriberId, subscriber.id),
    eq(deliveries.localDate, date),
    eq(deliveries.channel, "email"),
  );
  // The claim: only one process moves a row from queued (or a due retry, or a stale claim that
  // never reached the relay) to rendered.
  const [claimed] = await deps.db
    .update(deliveries)
    .set({
      status: "rendered",
      attempts: sql`${deliveries.attempts} + 1`,
      claimedAt: now,
      briefingId: briefing.id,
    })
    .where(
      and(
        thisDelivery,
        or(
          eq(deliveries.status, "queued"),
          and(eq(deliveries.status, "failed_retryable"), lte(deliveries.nextAttemptAt, now)),
          and(eq(deliveries.status, "rendered"), lte(deliveries.claimedAt, stale)),
        ),
      ),
    )
    .returning();
  if (!claimed) {
    // A sender that died after handing the message over: delivered as far as anyone can tell.
    const closed = await deps.db
      .update(deliveries)
      .set({
        status: "sent",
        lastError: "unconfirmed: the sender stopped after handing the message to the relay",
      })
      .where(and(thisDelivery, eq(deliveries.status, "sending"), lte(deliveries.claimedAt, stale)))
      .returning({ id: deliveries.id });
    if (closed.length) deps.logger.warn({ deliveryId: closed[0]!.id }, "unconfirmed delivery closed as sent");
    const [row] = await deps.db.select({ status: deliveries.status }).from(deliveries).where(thisDelivery);
    const reason =
      row?.status === "sent"
        ? "already_sent"
        : row?.status === "sending" || row?.status === "rendered"
          ? "in_progress"
          : "retry_later";
    return { status: "skipped", reason };
  }

  const domain = new URL(deps.config.publicBaseUrl).hostname || "daybreak.localhost";
  // One Message-ID per delivery, whatever the attempt: a resend is recognisably the same email.
  const messageId = `<${claimed.id}@${domain}>`;
  let email: Parameters<Deps["mailer"]["send"]>[0];
  try {
    const template = await deps.templates.get("briefing");
    const links = emailLinks(deps.config, subscriber.id);
    email = {
      to: subscriber.email,
      ...renderBriefingEmail(template, briefingEmailModel(briefing, subscriber, links)),
      messageId,
      headers: {
        // RFC 8058 one-click unsubscribe. No mailto: nothing reads such a mailbox, and a request
        // mailed there by a client that prefers it (older Outlook, Apple Mail) would be lost.
        "List-Unsubscribe": `<${links.unsubscribeUrl}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
    };
  } catch (err) {
    // A template that does not compile is ours to fix: retried later, the run goes on.
    const error = describeError(err);
    await deps.db
      .update(deliveries)
      .set({
        status: "failed_retryable",
        lastError: error.slice(0, 500),
        nextAttemptAt: new Date(now.getTime() + MAX_BACKOFF_MS),
      })
      .where(eq(deliveries.id, claimed.id));
    deps.logger.error({ deliveryId: claimed.id, error }, "briefing email could not be rendered");
    return { status: "failed", error, permanent: false };
  }
  const retryDelays = opts.retryDelaysMs ?? IN_RUN_RETRY_MS;
  let handedOver = false;
  for (let attempt = 0; ; attempt++) {
    // Set once this attempt starts recording 'sending': if that write's answer is lost (a dropped
    // database connection), it may have committed while the message never got its end mark.
    let recording = false;
    try {
      const sent = await deps.mailer.send({
        ...email,
        beforeCommit: async () => {
          recording = true;
          await deps.db
            .update(deliveries)
            .set({ status: "sending" })
            .where(and(eq(deliveries.id, claimed.id), eq(deliveries.status, "rendered")));
          handedOver = true;
        },
      });
      await deps.db
        .update(deliveries)
        .set({ status: "sent", sentAt: deps.clock.now(), messageId: sent.messageId, lastError: null })
        .where(eq(deliveries.id, claimed.id));
      return { status: "sent", messageId: sent.messageId, location: sent.location };
    } catch (err) {
      const error = describeError(err);
      const failure: SendFailure = (err as { failure?: SendFailure }).failure ?? { kind: "transient" };
      if (handedOver && failure.code === undefined) {
        // The relay had the message and no answer came back (the connection dropped after the
        // end mark, or the sender failed afterwards): it may be delivered, so it is not sent again.
        await deps.db
          .update(deliveries)
          .set({
            status: "sent",
            sentAt: deps.clock.now(),
            messageId,
            lastError: `unconfirmed: ${error}`.slice(0, 500),
          })
          .where(eq(deliveries.id, claimed.id));
        deps.logger.warn(
          { deliveryId: claimed.id, error },
          "briefing email handed over without confirmation",
        );
        return { status: "sent", messageId };
      }
      if (recording && !handedOver) {
        // The end mark was never sent: undo a 'sending' that may have committed, so that if this
        // process dies before its next attempt the row is claimed again, not closed as sent.
        await deps.db
          .update(deliveries)
          .set({ status: "rendered" })
          .where(and(eq(deliveries.id, claimed.id), eq(deliveries.status, "sending")))
          .catch(() => {});
      }
      handedOver = false;
      if (failure.kind === "transient" && attempt < retryDelays.length) {
        await sleep(retryDelays[attempt]!);
        continue;
      }
      const attempts = claimed.attempts;
      // A relay that refuses us is retried across ticks like a 4xx: the operator can fix it.
      const permanent =
        failure.kind === "permanent" || failure.kind === "rejected_recipient" || attempts >= MAX_ATTEMPTS;
      const backoffMs = Math.min(60_000 * 2 ** (attempts - 1), MAX_BACKOFF_MS);
      await deps.db
        .update(deliveries)
        .set({
          status: permanent ? "failed_permanent" : "failed_retryable",
          lastError: error.slice(0, 500),
          nextAttemptAt: permanent ? null : new Date(deps.clock.now().getTime() + backoffMs),
        })
        .where(eq(deliveries.id, claimed.id));
      if (failure.kind === "rejected_recipient") {
        // The address does not take mail: no more briefings until the subscriber changes it.
        await deps.db
          .update(subscribers)
          .set({ status: "bounced", updatedAt: deps.clock.now() })
          .where(eq(subscribers.id, subscriber.id));
      }
      const logged = { deliveryId: claimed.id, error, kind: failure.kind, permanent };
      if (failure.kind === "relay")
        deps.logger.error(
          logged,
          "briefing email failed: the mail relay refuses Daybreak (check SMTP_URL, MAIL_FROM, credentials)",
        );
      else deps.logger.warn(logged, "briefing email failed");
      return { status: "failed", error, permanent };
    }
  }
}
