import { sql } from "drizzle-orm";
import { rowsOf } from "../db/client.ts";
import type { Deps } from "../deps.ts";

type Row = Record<string, string | number | bigint>;
const rows = (r: unknown) => rowsOf<Row>(r);

/**
 * Prometheus exposition of the pipeline's totals, read from the database (so any number of
 * processes report the same figures): articles, stories, briefings, emails by status, model
 * calls and tokens.
 */
export async function renderMetrics(deps: Pick<Deps, "db">): Promise<string> {
  const [totals] = rows(
    await deps.db.execute(sql`select
      (select count(*) from articles) as articles,
      (select count(*) from stories) as stories,
      (select count(*) from briefings) as briefings,
      (select count(*) from subscribers where status = 'active') as subscribers,
      (select count(*) from sources where consecutive_failures > 0) as failing_sources,
      (select coalesce(sum(tokens_in), 0) from llm_calls) as llm_tokens_in,
      (select coalesce(sum(tokens_out), 0) from llm_calls) as llm_tokens_out`),
  );
  const deliveries = rows(
    await deps.db.execute(sql`select status, count(*) as n from deliveries group by status`),
  );
  const calls = rows(
    await deps.db.execute(
      sql`select purpose, outcome, count(*) as n from llm_calls group by purpose, outcome`,
    ),
  );
  // Why emails failed: the SMTP reply code when there is one, else what kind of failure it was.
  const failures = rows(
    await deps.db.execute(sql`select
        coalesce(substring(last_error from '\m([245][0-9][0-9])\M'), case when status = 'failed_permanent' then 'permanent' else 'transient' end) as reason,
        count(*) as n
      from deliveries where status in ('failed_retryable', 'failed_permanent') group by 1`),
  );
  const queue = await queueFigures(deps);
  const t = totals ?? {};
  const lines = [
    "# HELP daybreak_articles_total Articles stored.",
    "# TYPE daybreak_articles_total counter",
    `daybreak_articles_total ${Number(t.articles ?? 0)}`,
    "# HELP daybreak_stories_total Stories formed.",
    "# TYPE daybreak_stories_total counter",
    `daybreak_stories_total ${Number(t.stories ?? 0)}`,
    "# HELP daybreak_briefings_built_total Briefings built.",
    "# TYPE daybreak_briefings_built_total counter",
    `daybreak_briefings_built_total ${Number(t.briefings ?? 0)}`,
    "# HELP daybreak_subscribers_active Active subscribers.",
    "# TYPE daybreak_subscribers_active gauge",
    `daybreak_subscribers_active ${Number(t.subscribers ?? 0)}`,
    "# HELP daybreak_sources_failing Sources whose last fetch failed.",
    "# TYPE daybreak_sources_failing gauge",
    `daybreak_sources_failing ${Number(t.failing_sources ?? 0)}`,
    "# HELP daybreak_emails_total Briefing emails by delivery status.",
    "# TYPE daybreak_emails_total counter",
    ...deliveries.map((d) => `daybreak_emails_total{status="${String(d.status)}"} ${Number(d.n)}`),
    "# HELP daybreak_llm_calls_total Model calls by purpose and outcome.",
    "# TYPE daybreak_llm_calls_total counter",
    ...calls.map(
      (c) =>
        `daybreak_llm_calls_total{purpose="${String(c.purpose)}",outcome="${String(c.outcome)}"} ${Number(c.n)}`,
    ),
    "# HELP daybreak_llm_tokens_total Model tokens in and out.",
    "# TYPE daybreak_llm_tokens_total counter",
    `daybreak_llm_tokens_total{direction="in"} ${Number(t.llm_tokens_in ?? 0)}`,
    `daybreak_llm_tokens_total{direction="out"} ${Number(t.llm_tokens_out ?? 0)}`,
    "# HELP daybreak_emails_failed Briefing emails failing now, by SMTP reply code or kind.",
    "# TYPE daybreak_emails_failed gauge",
    ...failures.map((f) => `daybreak_emails_failed{reason="${String(f.reason)}"} ${Number(f.n)}`),
    "# HELP daybreak_queue_jobs Jobs of the daily run by queue and state.",
    "# TYPE daybreak_queue_jobs gauge",
    ...queue.depth.map(
      (q) => `daybreak_queue_jobs{queue="${String(q.name)}",state="${String(q.state)}"} ${Number(q.n)}`,
    ),
    "# HELP daybreak_queue_wait_seconds Mean time jobs started in the last 5 minutes waited in the queue.",
    "# TYPE daybreak_queue_wait_seconds gauge",
    ...queue.latency.map((q) => `daybreak_queue_wait_seconds{queue="${String(q.name)}"} ${Number(q.wait)}`),
    "# HELP daybreak_job_run_seconds Mean run time of jobs completed in the last 5 minutes.",
    "# TYPE daybreak_job_run_seconds gauge",
    ...queue.latency
      .filter((q) => q.run !== null)
      .map((q) => `daybreak_job_run_seconds{queue="${String(q.name)}"} ${Number(q.run)}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** Queue depth and latency from pg-boss's own table (absent until a worker has started once). */
async function queueFigures(deps: Pick<Deps, "db">) {
  const [installed] = rows(await deps.db.execute(sql`select to_regclass('pgboss.job') is not null as ok`));
  if (!installed?.ok || String(installed.ok) === "false") return { depth: [], latency: [] };
  const depth = rows(
    await deps.db.execute(
      sql`select name, state, count(*) as n from pgboss.job where state in ('created', 'retry', 'active', 'failed') group by name, state order by name, state`,
    ),
  );
  const latency = rows(
    await deps.db.execute(sql`select name,
        round(avg(extract(epoch from started_on - created_on))::numeric, 3) as wait,
        round(avg(extract(epoch from completed_on - started_on))::numeric, 3) as run
      from pgboss.job where started_on > now() - interval '5 minutes' group by name order by name`),
  );
  return { depth, latency };
}
