/**
 * Ingestion throughput: synthetic feeds parsed, normalized, de-duplicated, stored and clustered
 * at 1k, 10k and 50k articles, two ways: "concurrent" as the product's jobs run (four feed
 * documents stored at once, one clustering run at a time over whatever waits) and "sequential"
 * (one document at a time, each stage timed on its own). A parse+normalize-only pass over the same
 * feeds is the baseline in the same run (the ceiling without storage).
 *   npm run bench:ingest            (PGlite in memory)
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:ingest
 * BENCH_MODES=sequential|concurrent runs one way only.
 * Each size runs BENCH_REPEAT times (2); the summary gives medians, with process CPU time per
 * stage beside wall time (the machine is shared). Written to bench/results/ingest-throughput.json.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { loadConfig } from "../src/config.ts";
import { rowsOf } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { createDeps } from "../src/deps.ts";
import { fixedClock } from "../src/lib/clock.ts";
import { silentLogger } from "../src/lib/logger.ts";
import {
  type NormalizedArticle,
  normalizeEntry,
  parseFeed,
  storeArticles,
} from "../src/modules/articles/index.ts";
import { clusterArticles, StoryWindowCache } from "../src/modules/stories/index.ts";
import { bcubed } from "./corpus.ts";

const BATCH = 250; // articles per fetched feed document
const FETCH_CONCURRENCY = 4; // feeds fetched at once, as src/jobs/pipeline.ts does
const ARTICLES_PER_HOUR = 700; // ~17k a day: a large deployment's intake

/** Process CPU time (user + system) in ms: the client's share, whatever else the machine runs. */
function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const COMMON =
  "market government company report policy plan growth rate price deal talks week officials analysts data record industry workers demand supply percent billion million leaders sector companies investors country state city".split(
    " ",
  );

/** N articles about N/3 events, each event reported by about three outlets in their own words. */
export function syntheticArticles(n: number, seed = 7) {
  const r = rng(seed);
  // Word ranks follow Zipf's law over a 50k vocabulary, as in real text.
  const word = () => `w${Math.floor(Math.exp(r() * Math.log(50_000))).toString(36)}`;
  const name = () => `${"BCDFGHKLMNPRSTVZ"[Math.floor(r() * 16)]}${word().slice(1)}`;
  const out: { title: string; body: string; url: string; hour: number }[] = [];
  let event = 0;
  while (out.length < n) {
    const entities = [name(), name(), name()];
    const topic = [word(), word(), word(), word()];
    const reports = 1 + Math.floor(r() * 4);
    const hour = Math.floor(out.length / ARTICLES_PER_HOUR);
    for (let k = 0; k < reports && out.length < n; k++) {
      const sentence = () =>
        Array.from({ length: 14 }, () =>
          r() < 0.25
            ? entities[Math.floor(r() * 3)]
            : r() < 0.5
              ? topic[Math.floor(r() * 4)]
              : r() < 0.7
                ? COMMON[Math.floor(r() * COMMON.length)]
                : word(),
        ).join(" ");
      out.push({
        title: `${entities[0]} ${topic[0]} ${topic[1]} ${entities[1]} ${word()}`,
        body: Array.from({ length: 8 }, () => `${sentence()}.`).join(" "),
        url: `https://outlet${k}.example/${event}/${k}`,
        hour,
      });
    }
    event++;
  }
  return out;
}

function feedXml(items: ReturnType<typeof syntheticArticles>, base: Date) {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench</title><link>https://bench.example/</link>${items
    .map(
      (i) =>
        `<item><title>${esc(i.title)}</title><link>${i.url}</link><guid>${i.url}</guid><pubDate>${new Date(base.getTime() + i.hour * 3600_000).toUTCString()}</pubDate><description>${esc(i.body)}</description></item>`,
    )
    .join("")}</channel></rss>`;
}

async function run(n: number, dbUrl: string | undefined, mode: "sequential" | "concurrent") {
  const articles = syntheticArticles(n, n);
  const base = new Date("2026-11-01T00:00:00Z");
  const docs: { xml: string; hour: number }[] = [];
  for (let i = 0; i < articles.length; i += BATCH) {
    const slice = articles.slice(i, i + BATCH);
    docs.push({ xml: feedXml(slice, base), hour: slice[slice.length - 1]!.hour });
  }

  // Baseline: parse and normalize only.
  let t0 = performance.now();
  const baselineCpu = cpuMs();
  let normalizedCount = 0;
  for (const d of docs) {
    const now = new Date(base.getTime() + (d.hour + 1) * 3600_000);
    for (const e of parseFeed(d.xml).entries) {
      if (normalizeEntry(e, { feedUrl: "https://bench.example/", outlet: "Bench", language: "en", now }).ok)
        normalizedCount++;
    }
  }
  const baselineSeconds = (performance.now() - t0) / 1000;
  const baselineCpuSeconds = (cpuMs() - baselineCpu) / 1000;

  // The pipeline: parse, normalize, dedupe + store, cluster.
  let dbName: string | undefined;
  let url = dbUrl;
  if (dbUrl) {
    dbName = `daybreak_bench_${randomBytes(4).toString("hex")}`;
    const admin = postgres(dbUrl, { max: 1 });
    await admin.unsafe(`create database ${dbName}`);
    await admin.end();
    const u = new URL(dbUrl);
    u.pathname = `/${dbName}`;
    url = u.toString();
  }
  const clock = fixedClock(base);
  const config = loadConfig({ DATA_DIR: "/tmp/daybreak-bench", LOG_LEVEL: "silent", DATABASE_URL: url });
  const deps = await createDeps(config, { inMemoryDb: !url, clock, logger: silentLogger, llm: null });
  await migrate(deps.dbHandle);
  const stage = { parse: 0, store: 0, cluster: 0 };
  // Process CPU (user + system) per stage: wall time is shared with whatever else the machine runs.
  const stageCpu = { parse: 0, store: 0, cluster: 0 };
  const cpuStart = cpuMs();
  let stored = 0;
  const perChunk: number[] = [];
  t0 = performance.now();
  let chunkStart = t0;
  const chunk = Math.max(1, Math.floor(docs.length / 5));
  const chunkDone = (i: number) => {
    if ((i + 1) % chunk !== 0) return;
    const now = performance.now();
    perChunk.push(+(((now - chunkStart) / (chunk * BATCH)) * 1000).toFixed(1));
    chunkStart = now;
  };
  const storyWindow = new StoryWindowCache();
  const parseDoc = (d: { xml: string }) => {
    const batch: NormalizedArticle[] = [];
    for (const e of parseFeed(d.xml).entries) {
      const r = normalizeEntry(e, {
        feedUrl: "https://bench.example/",
        outlet: "Bench",
        language: "en",
        now: clock.now(),
      });
      if (r.ok) batch.push(r.article);
    }
    return batch;
  };
  if (mode === "sequential") {
    // One feed document at a time, each stage timed on its own.
    for (const [i, d] of docs.entries()) {
      clock.set(new Date(base.getTime() + (d.hour + 1) * 3600_000));
      let t = performance.now();
      let c = cpuMs();
      const batch = parseDoc(d);
      stage.parse += performance.now() - t;
      stageCpu.parse += cpuMs() - c;
      t = performance.now();
      c = cpuMs();
      stored += (await storeArticles(deps, null, batch)).added;
      stage.store += performance.now() - t;
      stageCpu.store += cpuMs() - c;
      t = performance.now();
      c = cpuMs();
      await clusterArticles(deps, storyWindow);
      stage.cluster += performance.now() - t;
      stageCpu.cluster += cpuMs() - c;
      chunkDone(i);
    }
  } else {
    // As the product runs it: feed documents fetched, parsed and stored FETCH_CONCURRENCY at a
    // time (fetch-source jobs), while one clustering run at a time takes whatever articles wait
    // (the group-stories job is a singleton): the CPU of one overlaps PostgreSQL's work on another.
    let next = 0;
    let finished = 0;
    let storing = true;
    // Set by a store (or the end of storing) that happened while clustering ran: checked before
    // waiting, so a wake-up that came early is not missed.
    let pending = false;
    let wake: (() => void) | null = null;
    const signal = () => {
      pending = true;
      wake?.();
    };
    const stores = Promise.all(
      Array.from({ length: FETCH_CONCURRENCY }, async () => {
        while (next < docs.length) {
          const i = next++;
          const d = docs[i]!;
          const at = base.getTime() + (d.hour + 1) * 3600_000;
          if (at > clock.now().getTime()) clock.set(new Date(at));
          // Awaited first: `stored += await ...` would read `stored` before the await and lose counts.
          const { added } = await storeArticles(deps, null, parseDoc(d));
          stored += added;
          chunkDone(finished++);
          signal();
        }
      }),
    ).then(() => {
      storing = false;
      signal();
    });
    for (;;) {
      const wasStoring = storing;
      pending = false;
      const r = await clusterArticles(deps, storyWindow);
      if (r.assigned > 0) continue;
      if (!wasStoring) break;
      if (!pending) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    }
    await stores;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (cpuMs() - cpuStart) / 1000;
  // Grouping quality on the synthetic events (an article's event is in its URL), so that a faster
  // way of running is not a worse one.
  const grouped = rowsOf<{ url: string; story_id: string | null }>(
    await deps.db.execute(sql`select url, story_id from articles`),
  );
  const gold = new Map(grouped.map((r) => [r.url, r.url.split("/")[3]!]));
  const predicted = new Map(grouped.map((r) => [r.url, r.story_id ?? r.url]));
  const quality = bcubed(gold, predicted);
  await deps.close();
  if (dbUrl && dbName) {
    const admin = postgres(dbUrl, { max: 1 });
    await admin.unsafe(`drop database ${dbName} with (force)`);
    await admin.end();
  }
  return {
    articles: n,
    mode,
    stored,
    stories: new Set(predicted.values()).size,
    events: new Set(gold.values()).size,
    bcubed: {
      precision: +quality.precision.toFixed(4),
      recall: +quality.recall.toFixed(4),
      f1: +quality.f1.toFixed(4),
    },
    seconds: +seconds.toFixed(2),
    articlesPerSecond: Math.round(n / seconds),
    microsecondsPerArticle: Math.round((seconds / n) * 1e6),
    microsecondsPerArticleByFifth: perChunk,
    stageSeconds: Object.fromEntries(Object.entries(stage).map(([k, v]) => [k, +(v / 1000).toFixed(2)])),
    cpuSeconds: +cpuSeconds.toFixed(2),
    stageCpuSeconds: Object.fromEntries(
      Object.entries(stageCpu).map(([k, v]) => [k, +(v / 1000).toFixed(2)]),
    ),
    baseline: {
      what: "parse + normalize only, same feeds",
      seconds: +baselineSeconds.toFixed(2),
      cpuSeconds: +baselineCpuSeconds.toFixed(2),
      articlesPerSecond: Math.round(normalizedCount / baselineSeconds),
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main() {
  const sizes = (process.argv[2] ?? "1000,10000,50000").split(",").map(Number);
  // The machine is shared: each size is measured this many times, and the median reported.
  const repeat = Number(process.env.BENCH_REPEAT ?? 2);
  const dbUrl = process.env.BENCH_DATABASE_URL;
  const loadBefore = loadavg()[0]!;
  const runs: Awaited<ReturnType<typeof run>>[] = [];
  const modes = ["concurrent", "sequential"] as const;
  // BENCH_MODES=sequential (or concurrent) runs one way only, e.g. under a profiler.
  const only = process.env.BENCH_MODES?.split(",");
  for (let r = 0; r < repeat; r++)
    for (const mode of modes)
      if (!only || only.includes(mode)) for (const n of sizes) runs.push(await run(n, dbUrl, mode));
  const summarize = (mode: (typeof modes)[number]) => {
    if (!runs.some((x) => x.mode === mode)) return null;
    const bySize = sizes.map((n) => {
      const rs = runs.filter((x) => x.articles === n && x.mode === mode);
      return {
        articles: n,
        articlesPerSecond: Math.round(median(rs.map((x) => x.articlesPerSecond))),
        msPerArticle: +(median(rs.map((x) => x.microsecondsPerArticle)) / 1000).toFixed(3),
        cpuMsPerArticle: +((median(rs.map((x) => x.cpuSeconds)) / n) * 1000).toFixed(3),
        ...(mode === "sequential"
          ? {
              stageCpuSeconds: Object.fromEntries(
                Object.keys(rs[0]!.stageCpuSeconds).map((k) => [
                  k,
                  +median(rs.map((x) => x.stageCpuSeconds[k]!)).toFixed(2),
                ]),
              ),
            }
          : {}),
        baselineArticlesPerSecond: Math.round(median(rs.map((x) => x.baseline.articlesPerSecond))),
      };
    });
    return {
      sizes: bySize,
      // Per-article time at the largest size over that at the smallest: 1.0 is perfectly flat.
      perArticleGrowth:
        bySize.length > 1 ? +(bySize.at(-1)!.msPerArticle / bySize[0]!.msPerArticle).toFixed(2) : null,
    };
  };
  const result = {
    benchmark: "ingest-throughput",
    driver: dbUrl ? "postgres" : "pglite",
    batch: BATCH,
    machine: { cpus: cpus().length, node: process.version, loadAverage: [loadBefore, loadavg()[0]!] },
    target: { articlesPerSecond: 2000, perArticleCost: "flat from 1k to 50k" },
    repeat,
    modes: {
      concurrent: `${FETCH_CONCURRENCY} feed documents stored at once, one clustering run at a time over whatever waits (as the product's jobs run)`,
      sequential: "one feed document at a time: parse, store, cluster, each stage timed",
    },
    summary: { concurrent: summarize("concurrent"), sequential: summarize("sequential") },
    runs,
  };
  const json = JSON.stringify(result, null, 2);
  console.log(json);
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/ingest-throughput.json", import.meta.url), `${json}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
