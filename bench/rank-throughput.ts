/**
 * Ranking cost: synthetic subscribers ranked against one day's stories. Story vectors are
 * prepared once for everyone; the baseline, in the same run, prepares them per subscriber (what
 * a naive implementation would do).
 *   npm run bench:rank [-- 100000 300]     (written to bench/results/rank-throughput.json)
 */

import { mkdirSync, writeFileSync } from "node:fs";
import {
  buildProfileVector,
  INDUSTRIES,
  prepareCandidates,
  RankingRun,
  ROLES,
  rankForProfile,
  type StoryText,
} from "../src/modules/ranking/index.ts";
import { syntheticArticles } from "./ingest-throughput.ts";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function main() {
  const subscribers = Number(process.argv[2] ?? 100_000);
  const storyCount = Number(process.argv[3] ?? 300);
  const r = rng(42);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  // Stories: synthetic text laced with taxonomy terms so profiles match some of them.
  const allTerms = INDUSTRIES.flatMap((i) => i.concepts.flatMap((c) => c.terms));
  const now = new Date("2026-11-27T07:00:00Z");
  const stories: StoryText[] = syntheticArticles(storyCount, 9).map((a, i) => ({
    storyId: `s${i}`,
    headline: `${a.title} ${pick(allTerms)}`,
    texts: [a.body, `${pick(allTerms)} ${pick(allTerms)} ${pick(allTerms)}.`],
    outletCount: 1 + Math.floor(r() * 5),
    domains: ["a.example"],
    lastSeenAt: new Date(now.getTime() - r() * 30 * 3600_000),
    revision: 1,
  }));
  const interests = allTerms.slice(0, 400);
  const profiles = Array.from({ length: subscribers }, () => ({
    role: pick(ROLES).name,
    industry: pick(INDUSTRIES).name,
    interests: [pick(interests), pick(interests)],
    followed: [],
    mutedTopics: [],
  }));

  const t0 = performance.now();
  const { candidates, idf } = prepareCandidates(stories);
  const run = new RankingRun(candidates, idf);
  let picked = 0;
  for (const p of profiles) picked += run.rank(run.profile(p), { now, limit: 5 }).picked.length;
  const seconds = (performance.now() - t0) / 1000;

  const baselineN = Math.min(subscribers, Number(process.env.BASELINE_SUBSCRIBERS ?? 500));
  const t1 = performance.now();
  for (const p of profiles.slice(0, baselineN)) {
    const prepared = prepareCandidates(stories);
    rankForProfile(buildProfileVector(p), prepared.candidates, prepared.idf, { now, limit: 5 });
  }
  const baselineSeconds = (performance.now() - t1) / 1000;
  const json = JSON.stringify(
    {
      benchmark: "rank-throughput",
      subscribers,
      stories: storyCount,
      seconds: +seconds.toFixed(2),
      subscribersPerSecond: Math.round(subscribers / seconds),
      picked,
      baseline: {
        what: "story vectors and concept matches prepared per subscriber (no shared run)",
        subscribers: baselineN,
        subscribersPerSecond: Math.round(baselineN / baselineSeconds),
      },
      target: { subscribersPerSecond: 5000 },
      peakRssMb: Math.round(process.memoryUsage().rss / 1048576),
    },
    null,
    2,
  );
  console.log(json);
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/rank-throughput.json", import.meta.url), `${json}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
