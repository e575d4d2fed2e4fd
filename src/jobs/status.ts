import { sql } from "drizzle-orm";
import { rowsOf } from "../db/client.ts";
import type { Deps } from "../deps.ts";
import { isDue } from "../modules/delivery/index.ts";
import { activeSubscribers } from "../modules/profiles/index.ts";
import { listSources } from "../modules/sources/index.ts";

type Row = Record<string, string | number | bigint>;
const rows = (r: unknown) => rowsOf<Row>(r);

/** Today's run at a glance: who is due, what was built and sent in the last 24 hours, failing sources. */
export async function todaysRun(deps: Pick<Deps, "db" | "clock">) {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - 24 * 3600_000).toISOString();
  const subscribers = await activeSubscribers(deps);
  const due = subscribers.filter((s) => isDue(s, now).due).length;
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
    subscribers: subscribers.length,
    due,
    built: Number(built?.n ?? 0),
    sent: byStatus.sent ?? 0,
    failed: (byStatus.failed_retryable ?? 0) + (byStatus.failed_permanent ?? 0),
    inProgress: (byStatus.queued ?? 0) + (byStatus.sending ?? 0),
    sources: sources.length,
    failingSources: sources
      .filter((s) => s.consecutiveFailures > 0)
      .map((s) => ({ name: s.name, error: s.lastError })),
  };
}
