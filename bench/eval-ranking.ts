/**
 * Ranking quality: the corpus served as feeds and ingested for real (clustered and summarized by
 * the pipeline), the five development profiles created as subscribers, every summarized story
 * ranked for each of them, and the rankings scored against the editor's graded relevance
 * (nDCG@5, nDCG@10, precision@5). The baseline, in the same run, orders stories by recency.
 *   npm run eval:ranking -- ../shared/corpus
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { articleAppearances, articles } from "../src/db/schema/index.ts";
import { canonicalUrl } from "../src/modules/articles/index.ts";
import { storyText } from "../src/modules/briefings/index.ts";
import { createSubscriber, type SubscriberInput } from "../src/modules/profiles/index.ts";
import {
  buildProfileVector,
  prepareCandidates,
  type Ranked,
  rankForProfile,
} from "../src/modules/ranking/index.ts";
import { recentStories } from "../src/modules/stories/index.ts";
import { latestSummaries } from "../src/modules/summaries/index.ts";
import { corpusNow, ingestCorpus, loadCorpus } from "./corpus.ts";

type DevProfile = {
  id: string;
  role: string;
  industry: string;
  interests?: string[];
  timezone: string;
  followed?: SubscriberInput["followed"];
  mutedTopics?: string[];
  region?: string;
};
type Grades = Record<string, Record<string, number>>;
type Metrics = { ndcg5: number; ndcg10: number; p5: number };

/** Grade of each ranked story; a story repeating an event already shown earns nothing. */
function gradesOf(order: string[], eventOf: Map<string, string>, grades: Record<string, number>): number[] {
  const seen = new Set<string>();
  return order.map((storyId) => {
    const event = eventOf.get(storyId);
    if (event === undefined || seen.has(event)) return 0;
    seen.add(event);
    return grades[event] ?? 0;
  });
}

const dcg = (gains: number[], k: number) =>
  gains.slice(0, k).reduce((sum, g, i) => sum + g / Math.log2(i + 2), 0);

function metrics(gained: number[], ideal: number[]): Metrics {
  const ndcg = (k: number) => (dcg(ideal, k) > 0 ? dcg(gained, k) / dcg(ideal, k) : 0);
  return {
    ndcg5: ndcg(5),
    ndcg10: ndcg(10),
    p5: gained.slice(0, 5).filter((g) => g >= 2).length / 5,
  };
}

const round = (x: number) => +x.toFixed(4);
const roundAll = (m: Metrics): Metrics => ({
  ndcg5: round(m.ndcg5),
  ndcg10: round(m.ndcg10),
  p5: round(m.p5),
});
const mean = (ms: Metrics[]): Metrics =>
  roundAll({
    ndcg5: ms.reduce((s, m) => s + m.ndcg5, 0) / ms.length,
    ndcg10: ms.reduce((s, m) => s + m.ndcg10, 0) / ms.length,
    p5: ms.reduce((s, m) => s + m.p5, 0) / ms.length,
  });

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: npm run eval:ranking -- <corpus dir>");
  const events = loadCorpus(dir);
  const devProfiles = JSON.parse(readFileSync(join(dir, "profiles-dev.json"), "utf8")) as DevProfile[];
  const { grades } = JSON.parse(readFileSync(join(dir, "relevance-dev.json"), "utf8")) as { grades: Grades };
  const now = corpusNow(events);

  const { deps, ingest } = await ingestCorpus(events);

  // Story -> event: the event most of the story's article appearances belong to.
  const goldEvent = new Map<string, string>();
  for (const e of events) for (const a of e.articles) goldEvent.set(canonicalUrl(a.url), e.id);
  const rows = await deps.db
    .select({ url: articleAppearances.url, storyId: articles.storyId })
    .from(articleAppearances)
    .innerJoin(articles, eq(articleAppearances.articleId, articles.id));
  const votes = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const event = goldEvent.get(r.url);
    if (!r.storyId || !event) continue;
    const v = votes.get(r.storyId) ?? new Map<string, number>();
    v.set(event, (v.get(event) ?? 0) + 1);
    votes.set(r.storyId, v);
  }
  const eventOf = new Map<string, string>();
  let withoutMajority = 0;
  for (const [storyId, v] of votes) {
    const sorted = [...v].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const total = sorted.reduce((s, [, n]) => s + n, 0);
    if (sorted[0]![1] * 2 <= total) withoutMajority++;
    eventOf.set(storyId, sorted[0]![0]);
  }

  // Candidates: every summarized story of the corpus, as generateBriefings would prepare them.
  const stories = await recentStories(deps, new Date(0), 100_000);
  const summaries = await latestSummaries(
    deps,
    stories.map((s) => s.id),
  );
  const usable = stories.filter((s) => summaries.has(s.id));
  const { candidates, idf } = prepareCandidates(usable.map((s) => storyText(summaries.get(s.id)!, s)));
  const eventsWithStory = new Set(usable.map((s) => eventOf.get(s.id)).filter((e) => e !== undefined));
  const recency = [...usable]
    .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime() || a.id.localeCompare(b.id))
    .map((s) => s.id);

  const results = [];
  for (const p of devProfiles) {
    const { subscriber } = await createSubscriber(deps, {
      email: `${p.id}@eval.example`,
      role: p.role,
      industry: p.industry,
      interests: p.interests ?? [],
      followed: p.followed ?? [],
      mutedTopics: p.mutedTopics ?? [],
      region: p.region ?? null,
      timezone: p.timezone,
      deliveryTime: "07:00",
      briefingLength: 10,
    });
    const profileGrades = grades[p.id] ?? {};
    const ideal = [...eventsWithStory].map((e) => profileGrades[e] ?? 0).sort((a, b) => b - a);
    const profile = buildProfileVector(subscriber);
    const briefing = rankForProfile(profile, candidates, idf, { now, limit: 10 }).picked;
    const full = rankForProfile(profile, candidates, idf, { now, limit: candidates.length }).picked;
    // Relevance alone: the relevance component of the full ranking, without importance, freshness or MMR.
    const byRelevance = [...full]
      .sort((a, b) => b.relevance - a.relevance || a.storyId.localeCompare(b.storyId))
      .map((r) => r.storyId);
    const score = (order: string[]) => metrics(gradesOf(order, eventOf, profileGrades), ideal);
    const ids = (rs: Ranked[]) => rs.map((r) => r.storyId);
    const briefingGrades = gradesOf(ids(briefing), eventOf, profileGrades);
    if (process.env.EVAL_VERBOSE) {
      // For whoever tunes the ranking: the top of the full order and where the graded stories sit.
      const fullGrades = gradesOf(ids(full), eventOf, profileGrades);
      console.error(`\n${p.id}`);
      full.forEach((r, i) => {
        if (i < 12 || fullGrades[i]! >= 2)
          console.error(
            `  ${String(i + 1).padStart(3)} g${fullGrades[i]} ${r.relevance.toFixed(2)} ${summaries.get(r.storyId)!.headline.slice(0, 60)} | ${r.reason}`,
          );
      });
    }
    results.push({
      id: p.id,
      ...score(ids(briefing)),
      fullOrdering: score(ids(full)),
      relevanceOnly: score(byRelevance),
      baseline: score(recency),
      top5: briefing.slice(0, 5).map((r, i) => ({
        headline: summaries.get(r.storyId)!.headline,
        event: eventOf.get(r.storyId) ?? null,
        grade: briefingGrades[i]!,
        reason: r.reason,
      })),
      missed: [...eventsWithStory]
        .filter((e) => (profileGrades[e] ?? 0) === 3 && !briefing.some((r) => eventOf.get(r.storyId) === e))
        .map((e) => {
          const at = full.findIndex((r) => eventOf.get(r.storyId) === e);
          return { event: e, headline: summaries.get(full[at]!.storyId)!.headline, rank: at + 1 };
        }),
    });
  }

  const result = {
    benchmark: "eval-ranking",
    corpus: "allsides-dev",
    events: events.length,
    stories: candidates.length,
    storiesWithoutMajorityEvent: withoutMajority,
    eventsWithStory: eventsWithStory.size,
    sourcesFailed: ingest.failed,
    now: now.toISOString(),
    profiles: results.map((r) => ({
      ...r,
      ...roundAll(r),
      fullOrdering: roundAll(r.fullOrdering),
      relevanceOnly: roundAll(r.relevanceOnly),
      baseline: roundAll(r.baseline),
    })),
    mean: mean(results),
    fullOrderingMean: mean(results.map((r) => r.fullOrdering)),
    relevanceOnlyMean: mean(results.map((r) => r.relevanceOnly)),
    baselineMean: mean(results.map((r) => r.baseline)),
    target: { meanNdcg5: 0.8 },
  };
  console.log(JSON.stringify(result, null, 2));
  await deps.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
