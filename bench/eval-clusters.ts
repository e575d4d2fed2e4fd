/**
 * Clustering quality: the corpus served as feeds, ingested for real, and the resulting stories
 * compared with the corpus' events by B-cubed precision, recall and F1.
 *   npm run eval:clusters -- ../shared/corpus
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { loadConfig } from "../src/config.ts";
import { migrate } from "../src/db/migrate.ts";
import { articleAppearances, articles } from "../src/db/schema/index.ts";
import { createDeps } from "../src/deps.ts";
import { runIngest } from "../src/jobs/pipeline.ts";
import { fixedClock } from "../src/lib/clock.ts";
import { silentLogger } from "../src/lib/logger.ts";
import { canonicalUrl } from "../src/modules/articles/index.ts";
import { addSource } from "../src/modules/sources/index.ts";
import { bcubed, buildFeeds, corpusNow, loadCorpus, serveFeeds } from "./corpus.ts";

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: npm run eval:clusters -- <corpus dir>");
  const events = loadCorpus(dir);
  const { server, urls } = await serveFeeds(buildFeeds(events));
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), "daybreak-eval-")),
    FETCH_ALLOW_PRIVATE: "true",
    // The corpus links to real publishers, out of reach here; its excerpts are what is evaluated.
    FETCH_FULL_TEXT: "false",
    LOG_LEVEL: "silent",
    DATABASE_URL: process.env.EVAL_DATABASE_URL,
  });
  const deps = await createDeps(config, {
    inMemoryDb: true,
    clock: fixedClock(corpusNow(events)),
    logger: silentLogger,
    llm: null,
  });
  await migrate(deps.dbHandle);
  for (const url of urls) await addSource(deps, { url });
  const started = performance.now();
  const ingest = await runIngest(deps);
  const seconds = (performance.now() - started) / 1000;

  const rows = await deps.db
    .select({ url: articleAppearances.url, storyId: articles.storyId })
    .from(articleAppearances)
    .innerJoin(articles, eq(articleAppearances.articleId, articles.id));
  const predicted = new Map(rows.map((r) => [r.url, r.storyId ?? "none"]));
  const gold = new Map<string, string>();
  for (const e of events) for (const a of e.articles) gold.set(canonicalUrl(a.url), e.id);
  const score = bcubed(gold, predicted);
  const result = {
    benchmark: "eval-clusters",
    corpus: "allsides-dev",
    events: events.length,
    articles: gold.size,
    ingested: predicted.size,
    stories: new Set(predicted.values()).size,
    sourcesFailed: ingest.failed,
    bcubed: {
      precision: +score.precision.toFixed(4),
      recall: +score.recall.toFixed(4),
      f1: +score.f1.toFixed(4),
    },
    target: { f1: 0.95 },
    seconds: +seconds.toFixed(2),
  };
  console.log(JSON.stringify(result, null, 2));
  server.close();
  await deps.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
