/**
 * The morning at scale, on the real PostgreSQL: N synthetic subscribers all due, S stories with
 * summaries already made. Measures, with 1 and then 2 worker processes (`daybreak worker`
 * serving the build-briefings queue), the time until every briefing is built, then the time to
 * render every briefing's email through the production path (read the briefing, build the email
 * model, fill the compiled MJML template) in as many processes, the scaling ratio, and each
 * process's peak memory. Both clocks start once the processes are up (workers listening, render
 * processes connected and their template compiled), as in a morning of long-running workers.
 * Then counts model calls for 10,000 and N subscribers against a counting OpenAI-compatible fake,
 * to show they follow stories and segments, not subscribers.
 *   npm run bench:daily -- [subscribers=100000] [stories=500]
 * Before the count, builds the next morning (the last run's briefings as yesterday's) to time a
 * build that reads what each reader was shown. BENCH_WORKERS=1,2 picks the worker counts;
 * BENCH_LLM=0 skips the model-call count and BENCH_SECOND=0 the next morning (a quick before/after
 * of the build and render alone); BENCH_CPU_PROF=<dir> profiles every process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { loadConfig } from "../src/config.ts";
import { openDb } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { stories, storySummaries, subscribers } from "../src/db/schema/index.ts";
import { createDeps } from "../src/deps.ts";
import { openDailyRunQueue, planDailyRun } from "../src/jobs/daily-run.ts";
import { silentLogger } from "../src/lib/logger.ts";
import { INDUSTRIES, ROLES } from "../src/modules/ranking/index.ts";
import { startFakeOpenAi } from "../test/openai-server.ts";
import { syntheticArticles } from "./ingest-throughput.ts";
import { cpuCalibrationMs, machineInfo } from "./machine.ts";

// Workers and render processes run with the heap cap docker-compose.yml gives workers.
const WORKER_NODE_OPTIONS = process.env.WORKER_NODE_OPTIONS ?? "--max-old-space-size=192";
const SERVER = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const root = join(import.meta.dirname, "..");

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Peak resident memory of a process, from the kernel (MB). */
function peakRssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

export async function seed(url: string, subscriberCount: number, storyCount: number) {
  const handle = await openDb({ url, poolSize: 4 });
  await migrate(handle);
  const r = rng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const allTerms = INDUSTRIES.flatMap((i) => i.concepts.flatMap((c) => c.terms));
  const now = Date.now();
  const arts = syntheticArticles(storyCount, 11);
  for (let k = 0; k < storyCount; k += 100) {
    const chunk = arts.slice(k, k + 100);
    const rows = await handle.db
      .insert(stories)
      .values(
        chunk.map((a) => ({
          title: a.title,
          articleCount: 3,
          outletCount: 1 + Math.floor(r() * 5),
          terms: {},
          firstSeenAt: new Date(now - 20 * 3600_000),
          lastSeenAt: new Date(now - r() * 20 * 3600_000),
        })),
      )
      .returning({ id: stories.id });
    await handle.db.insert(storySummaries).values(
      rows.map((s, i) => {
        const a = chunk[i]!;
        const line = () => `${a.title}: ${pick(allTerms)} and ${pick(allTerms)} weigh on ${pick(allTerms)}.`;
        const source = (n: number) => ({
          n,
          articleId: s.id,
          outlet: `Outlet ${n}`,
          domain: `outlet${n}.example`,
          url: `https://outlet${n}.example/${s.id}`,
          title: a.title,
          publishedAt: new Date(now - 10 * 3600_000).toISOString(),
        });
        return {
          storyId: s.id,
          version: 1,
          storyRevision: 1,
          headline: `${a.title} ${pick(allTerms)}`,
          keyPoints: [
            { text: line(), citations: [1] },
            { text: line(), citations: [2] },
          ],
          analysis: [
            { text: `${a.body.slice(0, 300)}.`, citations: [1] },
            { text: line(), citations: [2] },
            { text: line(), citations: [1, 2] },
          ],
          sources: [source(1), source(2)],
          provider: "extractive",
        };
      }),
    );
  }
  const interests = allTerms.slice(0, 400);
  for (let k = 0; k < subscriberCount; k += 2000) {
    await handle.db.insert(subscribers).values(
      Array.from({ length: Math.min(2000, subscriberCount - k) }, (_, i) => ({
        email: `reader${k + i}@bench.example`,
        role: pick(ROLES).name,
        industry: pick(INDUSTRIES).name,
        interests: [pick(interests), pick(interests)],
        timezone: "UTC",
        deliveryTime: "00:00",
        briefingLength: 5 + Math.floor(r() * 4),
      })),
    );
  }
  await handle.close();
}

function spawnDaybreak(
  args: string[],
  env: Record<string, string>,
  stdin: "ignore" | "pipe" = "ignore",
): ChildProcess {
  // BENCH_CPU_PROF=<dir>: each process writes a V8 CPU profile there when it exits.
  const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : [];
  return spawn(process.execPath, [...prof, "--import", "tsx", ...args], {
    cwd: root,
    env: {
      ...process.env,
      NODE_OPTIONS: WORKER_NODE_OPTIONS,
      LOG_LEVEL: "silent",
      SAMPLE_DATA: "false",
      ...env,
    },
    stdio: [stdin, "pipe", "inherit"],
  });
}

async function count(url: string, query: string): Promise<number> {
  const c = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await c.unsafe(query);
    return Number(row?.n ?? 0);
  } finally {
    await c.end();
  }
}

async function exec(url: string, query: string): Promise<void> {
  const c = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await c.unsafe(query);
  } finally {
    await c.end();
  }
}

/** Drops every queued and finished job (the queue's tables exist once a worker has started). */
const FORGET_JOBS =
  "do $$ begin if to_regclass('pgboss.job') is not null then delete from pgboss.job; end if; end $$";

/** Clears the morning's output so the next configuration starts from the same state. */
async function reset(url: string) {
  const c = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await c.unsafe("truncate deliveries, briefing_items, briefings, story_insights, llm_calls cascade");
    await c.unsafe(FORGET_JOBS);
  } finally {
    await c.end();
  }
}

/** Plans the morning and lets `workers` processes build it; returns seconds and peak memory. */
async function buildMorning(
  url: string,
  expected: number,
  workers: number,
  env: Record<string, string> = {},
) {
  const dataDir = mkdtempSync(join(tmpdir(), "daybreak-bench-"));
  const baseEnv = {
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    LINK_SECRET: "bench-link-secret-0123456789",
    WORKER_QUEUES: "build-briefings",
    ...env,
  };
  const config = loadConfig({ ...baseEnv, LOG_LEVEL: "silent" });
  const deps = await createDeps(config, { logger: silentLogger });
  const queue = await openDailyRunQueue(deps.dbHandle, deps);
  const procs = Array.from({ length: workers }, () => spawnDaybreak(["src/main.ts", "worker"], baseEnv));
  // Workers are up when they have created their queue connections; give them a moment.
  await sleep(4000);
  const t0 = performance.now();
  const plan = await planDailyRun(deps, queue);
  // Done when no build job is waiting or running. Polled on the queue's 200 jobs, not by counting
  // briefings: a count(*) over the growing table every 250 ms cost PostgreSQL ~6 s of CPU at
  // 100,000 subscribers, a tenth of the run, on the same two cores the workers use.
  for (;;) {
    await sleep(250);
    const pending = await count(
      url,
      "select count(*)::int as n from pgboss.job where name = 'build-briefings' and state in ('created', 'retry', 'active')",
    );
    if (pending === 0) break;
    if (performance.now() - t0 > 600_000)
      throw new Error(`${pending} build jobs still pending after 10 minutes`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const built = await count(url, "select count(*)::int as n from briefings");
  if (built < expected) throw new Error(`the build jobs finished with ${built} of ${expected} briefings`);
  const peaks = procs.map((p) => peakRssMb(p.pid));
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => new Promise((r) => p.once("exit", r))));
  await queue.stop(5_000);
  await deps.close();
  return { planned: plan.planned, seconds, peakRssMb: peaks };
}

/**
 * Renders every briefing's email in `shards` processes; returns the wall time from the moment
 * every shard is started and compiled (as the build is timed once its workers are up).
 */
async function renderMorning(url: string, shards: number) {
  const procs = Array.from({ length: shards }, (_, i) =>
    spawnDaybreak(
      ["bench/render-shard.ts", String(i), String(shards)],
      { DATABASE_URL: url, DATABASE_POOL_SIZE: "8" },
      "pipe",
    ),
  );
  const outs = procs.map(() => "");
  const ready = procs.map(
    (p, i) =>
      new Promise<void>((resolve) => {
        p.stdout!.on("data", (d) => {
          outs[i] += d;
          if (outs[i]!.startsWith("ready\n")) resolve();
        });
      }),
  );
  const done = procs.map(
    (p, i) =>
      new Promise<{ rendered: number; msPerEmail: number; peakRssMb: number }>((resolve, reject) =>
        p.once("exit", (code) =>
          code === 0
            ? resolve(JSON.parse(outs[i]!.slice("ready\n".length)))
            : reject(new Error(`render shard ${i} exited ${code}`)),
        ),
      ),
  );
  await Promise.all(ready);
  const t0 = performance.now();
  for (const p of procs) p.stdin!.write("go\n");
  const outputs = await Promise.all(done);
  return { seconds: (performance.now() - t0) / 1000, shards: outputs };
}

async function main() {
  const subscriberCount = Number(process.argv[2] ?? 100_000);
  const storyCount = Number(process.argv[3] ?? 500);
  const name = `daybreak_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(SERVER, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const u = new URL(SERVER);
  u.pathname = `/${name}`;
  const url = u.toString();
  try {
    const machine = machineInfo();
    const s0 = performance.now();
    await seed(url, subscriberCount, storyCount);
    const seedSeconds = (performance.now() - s0) / 1000;

    const runs = [];
    const workerCounts = (process.env.BENCH_WORKERS ?? "1,2").split(",").map(Number);
    for (const workers of workerCounts) {
      await reset(url);
      const build = await buildMorning(url, subscriberCount, workers);
      const render = await renderMorning(url, workers);
      const total = build.seconds + render.seconds;
      runs.push({
        workers,
        buildSeconds: +build.seconds.toFixed(1),
        renderSeconds: +render.seconds.toFixed(1),
        totalSeconds: +total.toFixed(1),
        subscribersPerSecond: Math.round(subscriberCount / total),
        renderMsPerEmail: render.shards.map((s) => s.msPerEmail),
        workerPeakRssMb: build.peakRssMb,
        renderPeakRssMb: render.shards.map((s) => s.peakRssMb),
      });
    }

    // The next morning: the morning just built becomes yesterday's, so every reader's build reads
    // what they were shown (left out unless updated) against a briefings table that already holds
    // a morning, with the statistics PostgreSQL has at that point (BENCH_SECOND=0 skips it).
    let nextMorning = null;
    if (process.env.BENCH_SECOND !== "0" && runs.length > 0) {
      const workers = workerCounts.at(-1)!;
      await exec(url, "update briefings set date = date - 1");
      await exec(url, "delete from deliveries");
      await exec(url, FORGET_JOBS);
      const build = await buildMorning(url, subscriberCount, workers);
      const repeated = await count(
        url,
        `select count(*)::int as n from briefing_items i join briefings b on b.id = i.briefing_id
          join briefings y on y.subscriber_id = b.subscriber_id and y.date = b.date - 1
          join briefing_items yi on yi.briefing_id = y.id and yi.story_id = i.story_id
          where b.date = (select max(date) from briefings)`,
      );
      nextMorning = {
        workers,
        buildSeconds: +build.seconds.toFixed(1),
        // Stories shown the day before and shown again (none: nothing changes between the two).
        repeatedFromYesterday: repeated,
        workerPeakRssMb: build.peakRssMb,
      };
    }

    // Model calls with a counting fake: summaries are cached, so only "why it matters" remains,
    // one per (story, role x industry segment) picked.
    const fake = await startFakeOpenAi();
    fake.chat = () => ({ text: "It changes what a reader in this role has to plan for this quarter." });
    const llmCalls = [];
    const counted = process.env.BENCH_LLM === "0" ? [] : [Math.min(10_000, subscriberCount), subscriberCount];
    for (const n of [...new Set(counted)]) {
      await reset(url);
      await exec(
        url,
        `update subscribers set status = case when substring(email from '^reader([0-9]+)@')::int < ${n} then 'active' else 'paused' end`,
      );
      const segments = await count(
        url,
        "select count(distinct (role, industry))::int as n from subscribers where status = 'active'",
      );
      const build = await buildMorning(url, n, 1, { OPENAI_API_KEY: "bench", OPENAI_BASE_URL: fake.baseURL });
      const calls = await count(
        url,
        "select count(*)::int as n from llm_calls where purpose = 'why_it_matters'",
      );
      llmCalls.push({
        subscribers: n,
        segments,
        stories: storyCount,
        whyItMattersCalls: calls,
        buildSeconds: +build.seconds.toFixed(1),
      });
    }
    await fake.close();

    const [one, two] = runs;
    const result = {
      benchmark: "daily-run-scale",
      note: "PostgreSQL 15 on loopback; workers are `daybreak worker` processes serving build-briefings; rendering runs the production read + email model + compiled template per briefing",
      // calibrationMs before the seed and after the last run: the machine's speed at each end.
      machine: { ...machine, calibrationMsAfter: cpuCalibrationMs() },
      subscribers: subscriberCount,
      stories: storyCount,
      seedSeconds: +seedSeconds.toFixed(1),
      runs,
      workerNodeOptions: WORKER_NODE_OPTIONS,
      scalingRatio: one && two ? +(one.totalSeconds / two.totalSeconds).toFixed(2) : null,
      nextMorning,
      llmCalls,
      target: { totalSeconds: 60, workerPeakRssMb: 300 },
    };
    const text = JSON.stringify(result, null, 2);
    console.log(text);
    mkdirSync(join(root, "bench", "results"), { recursive: true });
    writeFileSync(join(root, "bench", "results", "daily-run-scale.json"), `${text}\n`);
  } finally {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

if (process.argv[1]?.endsWith("daily-run-scale.ts"))
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
