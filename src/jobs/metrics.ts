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
  ];
  return `${lines.join("\n")}\n`;
}
