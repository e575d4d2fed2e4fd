import { sql } from "drizzle-orm";
import { rowsOf } from "../db/client.ts";
import type { Deps } from "../deps.ts";
import { listSources } from "../modules/sources/index.ts";

type Row = Record<string, string | number | bigint>;
const rows = (r: unknown) => rowsOf<Row>(r);

/** Today's run at a glance: who is due, what was built and sent in the last 24 hours, failing sources. */
export async function todaysRun(deps: Pick<Deps, "db" | "clock">) {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - 24 * 3600_000).toISOString();
  // Counted by PostgreSQL from each subscriber's time zone: never a million rows into the process.
  const [counts] = rows(
    await deps.db.execute(sql`select count(*) as subscribers,
        count(*) filter (where to_char(${now.toISOString()}::timestamptz at time zone timezone, 'HH24:MI') >= delivery_time) as due
      from subscribers where status = 'active'`),
  );
  const [built] = rows(
    await deps.db.execute(sql`select count(*) as n from briefings where generated_at >= ${since}`),
  );
  const deliveries = rows(
    await deps.db.execute(
      sql`select status, count(*) as n from deliveries where created_at >= ${since} group by status`,
    ),
  );
  const byStatus = Object.fromEntries(deliveries.map((d) => [String(d.status), Number(d.n)]));
  const sources = await listSources(deps);
  return {
    subscribers: Number(counts?.subscribers ?? 0),
    due: Number(counts?.due ?? 0),
    queue: await queueWaiting(deps),
    built: Number(built?.n ?? 0),
    sent: byStatus.sent ?? 0,
    failed: (byStatus.failed_retryable ?? 0) + (byStatus.failed_permanent ?? 0),
    inProgress: (byStatus.queued ?? 0) + (byStatus.rendered ?? 0) + (byStatus.sending ?? 0),
    sources: sources.length,
    failingSources: sources
      .filter((s) => s.consecutiveFailures > 0)
      .map((s) => ({ name: s.name, error: s.lastError })),
  };
}

/** Jobs waiting or running per queue of the daily run (none before a worker has started once). */
async function queueWaiting(deps: Pick<Deps, "db">): Promise<Record<string, number>> {
  const [installed] = rows(await deps.db.execute(sql`select to_regclass('pgboss.job') is not null as ok`));
  if (!installed?.ok || String(installed.ok) === "false") return {};
  const waiting = rows(
    await deps.db.execute(
      sql`select name, count(*) as n from pgboss.job where state in ('created', 'retry', 'active') group by name`,
    ),
  );
  return Object.fromEntries(waiting.map((w) => [String(w.name), Number(w.n)]));
}
