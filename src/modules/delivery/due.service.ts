import { sql } from "drizzle-orm";
import { rowsOf } from "../../db/client.ts";
import type { Deps } from "../../deps.ts";

/** A subscriber's briefing owed for one local date. */
export type DueDelivery = { subscriberId: string; localDate: string };

/**
 * The planner's claim for the morning: one delivery row per subscriber whose local delivery
 * time has come today, inserted in one statement. Only the rows this call inserted come back,
 * so however many planners run at once, each (subscriber, local date) is planned exactly once.
 * Local dates and times are computed by PostgreSQL from each subscriber's IANA time zone, so
 * a million subscribers are never loaded into the process to find the due ones.
 *
 * Yesterday's briefing is still owed for CATCH_UP after its delivery time when it was never
 * planned: a plan that ran at 23:58:40 and next at 00:00:20 lost a 23:59 reader's day, as did any
 * planner outage across local midnight. Readers who joined after that time are not owed it.
 */
export async function claimDueDeliveries(
  deps: Pick<Deps, "db" | "clock">,
  opts: { limit?: number } = {},
): Promise<DueDelivery[]> {
  const now = deps.clock.now().toISOString();
  const rows = rowsOf<{ subscriber_id: string; local_date: string }>(
    await deps.db.execute(sql`
      insert into deliveries (subscriber_id, local_date)
      select s.id, due.local_date
      from subscribers s
      cross join lateral (select ${now}::timestamptz at time zone s.timezone as local_now) l
      cross join lateral (
        select l.local_now::date as local_date
        where to_char(l.local_now, 'HH24:MI') >= s.delivery_time
        union all
        select l.local_now::date - 1
        -- CATCH_UP in real time after yesterday's delivery instant, as isDue counts it (wall-clock
        -- hours differ across a DST change).
        where ${now}::timestamptz
            < ((l.local_now::date - 1) + s.delivery_time::time) at time zone s.timezone + ${CATCH_UP}::interval
          and coalesce(s.confirmed_at, s.created_at)
            <= ((l.local_now::date - 1) + s.delivery_time::time) at time zone s.timezone
      ) due
      where s.status = 'active'
        and not exists (
          select 1 from deliveries d
          where d.subscriber_id = s.id and d.channel = 'email' and d.local_date >= due.local_date
        )
      order by s.id
      limit ${opts.limit ?? 100_000}
      on conflict do nothing
      returning subscriber_id, local_date::text as local_date`),
  );
  return rows.map((r) => ({ subscriberId: r.subscriber_id, localDate: String(r.local_date) }));
}

/** How long after it was planned yesterday's delivery, left behind, is still sent (stalledDeliveries). */
const LEFT_BEHIND_MS = 6 * 3600_000;

/** How long past its delivery time an unplanned briefing is still sent (see claimDueDeliveries). */
export const CATCH_UP_MS = 3 * 3600_000;
const CATCH_UP = `${CATCH_UP_MS / 60_000} minutes`;

/**
 * Deliveries that should have moved on and did not: planned but never sent, a retry now due,
 * or a claim left by a sender that died. The queue gets a job for each again; the delivery's
 * own claim keeps that from ever sending twice.
 */
export async function stalledDeliveries(
  deps: Pick<Deps, "db" | "clock" | "config">,
  opts: { limit?: number } = {},
): Promise<DueDelivery[]> {
  const now = deps.clock.now();
  // Waiting this long (planned and never sent, or claimed and never confirmed) means a lost job
  // or a dead sender; sooner would only duplicate jobs still queued or sends still running.
  const before = new Date(now.getTime() - deps.config.DELIVERY_CLAIM_TIMEOUT_SECONDS * 1000).toISOString();
  const rows = rowsOf<{ subscriber_id: string; local_date: string }>(
    await deps.db.execute(sql`
      select d.subscriber_id, d.local_date::text as local_date
      from deliveries d join subscribers s on s.id = d.subscriber_id
      where s.status = 'active' and d.channel = 'email'
        -- A day gone is not sent: a reader paused between planning and sending got the email of
        -- three days before on resuming, and that day's an hour later. Yesterday's is still sent
        -- while it is recent (a 23:59 delivery retried past midnight).
        and (
          d.local_date >= (${now.toISOString()}::timestamptz at time zone s.timezone)::date
          or (
            d.local_date = (${now.toISOString()}::timestamptz at time zone s.timezone)::date - 1
            and d.created_at > ${new Date(now.getTime() - LEFT_BEHIND_MS).toISOString()}::timestamptz
          )
        )
        and (
          (d.status = 'queued' and d.created_at <= ${before}::timestamptz)
          or (d.status = 'failed_retryable' and d.next_attempt_at <= ${now.toISOString()}::timestamptz)
          or (d.status in ('rendered', 'sending') and d.claimed_at <= ${before}::timestamptz)
        )
      order by d.local_date, d.subscriber_id
      limit ${opts.limit ?? 100_000}`),
  );
  return rows.map((r) => ({ subscriberId: r.subscriber_id, localDate: String(r.local_date) }));
}
