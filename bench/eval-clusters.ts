/**
 * Clustering quality: the corpus served as feeds, ingested for real, and the resulting stories
 * compared with the corpus' events by B-cubed precision, recall and F1.
 *   npm run eval:clusters -- ../shared/corpus
 */
import { eq } from "drizzle-orm";
import { articleAppearances, articles } from "../src/db/schema/index.ts";
import { canonicalUrl } from "../src/modules/articles/index.ts";
import { bcubed, ingestCorpus, loadCorpus } from "./corpus.ts";

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: npm run eval:clusters -- <corpus dir>");
  const events = loadCorpus(dir);
  const { deps, ingest, seconds } = await ingestCorpus(events);

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
  await deps.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
