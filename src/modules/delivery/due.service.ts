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
 */
export async function claimDueDeliveries(
  deps: Pick<Deps, "db" | "clock">,
  opts: { limit?: number } = {},
): Promise<DueDelivery[]> {
  const now = deps.clock.now().toISOString();
  const rows = rowsOf<{ subscriber_id: string; local_date: string }>(
    await deps.db.execute(sql`
      insert into deliveries (subscriber_id, local_date)
      select s.id, (${now}::timestamptz at time zone s.timezone)::date
      from subscribers s
      where s.status = 'active'
        and to_char(${now}::timestamptz at time zone s.timezone, 'HH24:MI') >= s.delivery_time
        and not exists (
          select 1 from deliveries d
          where d.subscriber_id = s.id and d.channel = 'email'
            and d.local_date >= (${now}::timestamptz at time zone s.timezone)::date
        )
      order by s.id
      limit ${opts.limit ?? 100_000}
      on conflict do nothing
      returning subscriber_id, local_date::text as local_date`),
  );
  return rows.map((r) => ({ subscriberId: r.subscriber_id, localDate: String(r.local_date) }));
}

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
