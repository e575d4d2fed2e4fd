/**
 * API load on loopback: `GET /v1/briefings/today` for 1,000 subscribers (each with today's
 * briefing, tokens rotated across requests) against the real PostgreSQL, next to a bare Hono route
 * served by the same process, plus a run at a fixed 1,000 requests/s. The server runs in a child
 * process so autocannon does not share its event loop. Prints one JSON result and writes it to
 * bench/results/api-load.json. Targets: today ≥ 50% of the bare route's requests/s, p99 < 20 ms
 * at 1,000 requests/s. First, on the fresh server, the morning's rush: every reader's first read
 * with cold caches, beside the same reads cached (see firstReads). With SOAK_MINUTES=n it instead runs the soak (see `soak`), writing
 * bench/results/api-soak.json.
 * Each run also reports what tells the server's delays from the load generator's: p50/p99 of the
 * answers after the first second (see Run.steady), the server's event-loop delay, the longest
 * stall of autocannon's own event loop, and how many answers over 20 ms the app took over 20 ms
 * to produce. The p99 target is judged on the steady p99.
 * BENCH_ROUNDS (default 3) sets the interleaved rounds, BENCH_CONNECTIONS (default 10) the
 * connections autocannon keeps open, BENCH_ONLY (e.g. `today,bare` or `todayAt1000`) runs only
 * those loads and prints them without writing a result.
 *   npm run bench:api [-- postgres://postgres@127.0.0.1:5432/postgres]
 *   npm run bench:soak   (SOAK_MINUTES=10)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { serve } from "@hono/node-server";
import autocannon from "autocannon";
import { Hono } from "hono";
import postgres from "postgres";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { openDb } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { createDeps, sampleFeedsDir } from "../src/deps.ts";
import { runIngest } from "../src/jobs/pipeline.ts";
import { seedSampleSources } from "../src/jobs/sample-data.ts";
import { silentLogger } from "../src/lib/logger.ts";
import { generateBriefings } from "../src/modules/briefings/index.ts";
import { createSubscriber } from "../src/modules/profiles/index.ts";
import { cpuCalibrationMs, machineInfo } from "./machine.ts";

// autocannon appends every answer's body to a JS string (`body += chunk`) that only its
// expectBody/verifyBody/onResponse options read; this bench uses none. Decoding is cheap for the
// bare routes' ASCII bodies and dear for a briefing's UTF-8 text (~15 us an answer here) or its
// gzip bytes (~75 us: binary decoded as UTF-8), CPU taken from the two cores the server runs on,
// so the load generator's own work weighed on the app's figures and not on the baseline's.
// Bytes are still counted (throughput, bytesPerAnswer): autocannon counts them apart from this.
const bodyQueue = createRequire(import.meta.url)("autocannon/lib/pipelinedRequestsQueue.js") as {
  prototype: { addBody(data: Buffer): void };
};
bodyQueue.prototype.addBody = () => {};

const SUBSCRIBERS = 1000;
/** Readers seeded beside them whose briefings nothing reads before the rush (see firstReads). */
const RUSH_READERS = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const POOL_SIZE = 10;
const DURATION_S = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const APP_PORT = 38_471;
const BARE_PORT = 38_472;

const benchEnv = (url: string) => ({
  DATABASE_URL: url,
  DATABASE_POOL_SIZE: String(POOL_SIZE),
  LOG_LEVEL: "silent",
  DATA_DIR: ".data/bench",
  // One token may spend far more than an app would; the limiter itself stays on the path.
  RATE_LIMIT_PER_SECOND: "1000000",
  RATE_LIMIT_BURST: "1000000",
});

/** Child mode: the app and a bare Hono route, each on its own loopback port. */
async function runServer(url: string) {
  const sizedBody = Buffer.from(JSON.stringify({ filler: "x".repeat(Number(process.argv[4] ?? 14_000)) }));
  const deps = await createDeps(loadConfig(benchEnv(url)), { logger: silentLogger, llm: null });
  const app = createApp(deps);
  // The server's event-loop delay over each load, to tell a stall in the server (a long task, a
  // collection) from queueing or the client's own delays in autocannon's latencies.
  const loopDelay = monitorEventLoopDelay({ resolution: 2 });
  loopDelay.enable();
  const bare = new Hono()
    .get("/bare", (c) => c.json({ status: "ok" }))
    // The same size of answer as today's briefing, to tell payload cost from the app's own.
    .get("/bare-sized", (c) => c.body(sizedBody, 200, { "content-type": "application/json" }))
    // For the report: the server process's own CPU time, apart from autocannon's and other work's.
    .get("/cpu", (c) => c.json(process.cpuUsage()))
    .get("/loop", (c) => {
      const delay = { p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6, slowInApp };
      loopDelay.reset();
      slowInApp = 0;
      return c.json(delay);
    })
    .get("/mem", (c) => c.json({ rssMb: Math.round(process.memoryUsage().rss / 1048576) }));
  // Answers the app took more than 20 ms to produce (from the request to its Response), so a slow
  // answer seen by autocannon is known to come from the app or from outside it (socket, client).
  let slowInApp = 0;
  // Answers the app gives synchronously (from memory) stay synchronous: @hono/node-server writes
  // those without awaiting, as it does the bare routes'.
  const timedFetch = (req: Request, env: unknown) => {
    const started = performance.now();
    const counted = (res: Response) => {
      if (performance.now() - started > 20) slowInApp++;
      return res;
    };
    const res = app.fetch(req, env);
    return res instanceof Promise ? res.then(counted) : counted(res);
  };
  serve({ fetch: timedFetch, port: APP_PORT, hostname: "127.0.0.1" });
  serve({ fetch: bare.fetch, port: BARE_PORT, hostname: "127.0.0.1" });
  // A clean exit on SIGTERM, so `BENCH_CPU_PROF=dir` (node --cpu-prof) can write its profile.
  process.on("SIGTERM", () => process.exit(0));
  process.stdout.write("ready\n");
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(m * 100) / 100;
};
/** The run with the median requests/s (the lower middle one for an even count). */
const medianBy = (runs: Run[]) =>
  [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor((runs.length - 1) / 2)]!;

function withDatabase(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function seed(url: string): Promise<{ tokens: string[]; seedSeconds: number }> {
  const started = performance.now();
  const handle = await openDb({ url, poolSize: POOL_SIZE });
  await migrate(handle);
  const deps = await createDeps(loadConfig(benchEnv(url)), {
    dbHandle: handle,
    logger: silentLogger,
    llm: null,
  });
  await seedSampleSources(deps, sampleFeedsDir);
  await runIngest(deps);
  const roles = ["CFO", "Supply chain director", "Policy analyst", "CTO", "Portfolio manager"];
  const industries = ["Banking", "Manufacturing", "Government", "Software", "Energy"];
  const tokens: string[] = [];
  for (let i = 0; i < SUBSCRIBERS + RUSH_READERS; i++) {
    const { token } = await createSubscriber(deps, {
      email: `reader${i}@bench.example`,
      role: roles[i % roles.length]!,
      industry: industries[Math.floor(i / roles.length) % industries.length]!,
      timezone: "UTC",
      deliveryTime: "07:00",
    });
    tokens.push(token);
  }
  const built = await generateBriefings(deps);
  if (built.generated !== SUBSCRIBERS + RUSH_READERS)
    throw new Error(`built ${built.generated} briefings, not ${SUBSCRIBERS + RUSH_READERS}`);
  await deps.close();
  return { tokens, seedSeconds: Math.round((performance.now() - started) / 100) / 10 };
}

function startServer(url: string, bodyBytes: number): Promise<ChildProcess> {
  const profile = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, "--import", "tsx", new URL(import.meta.url).pathname, "--serve", url, String(bodyBytes)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) resolve(child);
    });
  });
}

type Run = {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** CPU time the server process spent per request (user + system), in microseconds. */
  serverCpuMicrosPerRequest: number;
  /** CPU time autocannon (this process) spent per request: on 2 cores the client is half the load. */
  clientCpuMicrosPerRequest: number;
  /** Bytes on the wire per answer, headers included. */
  bytesPerAnswer: number;
  /** Answers 304 Not Modified (counted in non2xx too). */
  notModified: number;
  /** The server's event-loop delay during the run (p99 and max, ms). */
  serverLoopDelayMs: { p99: number; max: number };
  /**
   * p50/p99 of the answers after the first second (ms): each answer's own time and, in paced runs,
   * coordinated-omission samples at the connection's real send interval. autocannon's p99
   * above counts the first second, when autocannon itself is blocked building every connection's
   * requests (10 x 1,000 here, ~0.2 s) while the first answers wait unread, and for paced runs
   * adds coordinated-omission samples at a 1 ms interval (it rounds 1/rate up to 1 ms), so one
   * answer held 250 ms there becomes ~250 samples.
   */
  steady: { p50Ms: number; p99Ms: number; answers: number; requestsPerSecond: number };
  /** The longest the load generator's own event loop was blocked (ms), and when (ms after start). */
  clientStall: { maxMs: number; atMs: number };
  /**
   * Answers slower than 20 ms as autocannon saw them, in how many distinct 100 ms windows they
   * came (one stall or a spread), and how many of them the app itself took over 20 ms to produce.
   */
  slowAnswers: { count: number; windows: number; inApp: number };
};

const loopDelay = async () =>
  (await (await fetch(`http://127.0.0.1:${BARE_PORT}/loop`)).json()) as {
    p99Ms: number;
    maxMs: number;
    slowInApp: number;
  };

const serverCpu = async () => {
  const u = (await (await fetch(`http://127.0.0.1:${BARE_PORT}/cpu`)).json()) as {
    user: number;
    system: number;
  };
  return u.user + u.system;
};

async function load(opts: {
  url: string;
  tokens?: string[];
  rate?: number;
  duration?: number;
  /** Request headers every request carries (e.g. the app's Accept-Encoding). */
  headers?: Record<string, string>;
  /** The ETag each token last saw, sent as If-None-Match (the app re-opening today's briefing). */
  etags?: string[];
}): Promise<Run> {
  const tokens = opts.tokens;
  // Each request reads as the next subscriber. The requests are built once, before the run:
  // autocannon rebuilds a request on every send when given a setupRequest function, which cost
  // it ~30 us of CPU a request, taken from the same two cores the server runs on.
  const requests = tokens
    ? tokens.map((t, k) => ({
        method: "GET" as const,
        headers: {
          authorization: `Bearer ${t}`,
          ...(opts.etags ? { "if-none-match": opts.etags[k]! } : {}),
        },
      }))
    : [{ method: "GET" as const }];
  const cpuBefore = await serverCpu();
  await loopDelay();
  const clientBefore = process.cpuUsage();
  const slowWindows = new Set<number>();
  let slow = 0;
  const started = performance.now();
  const steady: number[] = [];
  let answered = 0;
  const pacedInterval = opts.rate ? (1000 * CONNECTIONS) / opts.rate : 0;
  // The client's own stalls: a timer that should fire every 10 ms.
  const stall = { maxMs: 0, atMs: 0 };
  let tick = started;
  const monitor = setInterval(() => {
    const now = performance.now();
    if (now - tick - 10 > stall.maxMs) Object.assign(stall, { maxMs: now - tick - 10, atMs: now - started });
    tick = now;
  }, 10);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        connections: CONNECTIONS,
        duration: opts.duration ?? DURATION_S,
        ...(opts.rate ? { overallRate: opts.rate } : {}),
        ...(opts.headers ? { headers: opts.headers } : {}),
        requests,
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
    instance.on("response", (_client: unknown, _status: number, _bytes: number, ms: number) => {
      if (performance.now() - started >= 1000) {
        answered++;
        steady.push(ms);
        // Paced runs: an answer held past its connection's next send stands for the sends it
        // delayed (coordinated omission), as HdrHistogram's recordValueWithExpectedInterval does,
        // at the real interval (autocannon uses 1 ms): a stall in the server still shows.
        for (let v = ms - pacedInterval; pacedInterval > 0 && v >= pacedInterval; v -= pacedInterval)
          steady.push(v);
      }
      if (ms <= 20) return;
      slow++;
      slowWindows.add(Math.floor(performance.now() / 100));
    });
  });
  clearInterval(monitor);
  const client = process.cpuUsage(clientBefore);
  steady.sort((a, b) => a - b);
  const at = (q: number) =>
    +(steady[Math.min(steady.length - 1, Math.floor(steady.length * q))] ?? 0).toFixed(2);
  const cpu = (await serverCpu()) - cpuBefore;
  const delay = await loopDelay();
  return {
    serverCpuMicrosPerRequest: Math.round(cpu / Math.max(1, result.requests.total)),
    clientCpuMicrosPerRequest: Math.round((client.user + client.system) / Math.max(1, result.requests.total)),
    bytesPerAnswer: Math.round(result.throughput.total / Math.max(1, result.requests.total)),
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    notModified:
      (result.statusCodeStats as Record<string, { count: number }> | undefined)?.["304"]?.count ?? 0,
    errors: result.errors + result.timeouts,
    steady: {
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      answers: answered,
      requestsPerSecond: Math.round(answered / Math.max(1, (opts.duration ?? DURATION_S) - 1)),
    },
    clientStall: { maxMs: Math.round(stall.maxMs), atMs: Math.round(stall.atMs) },
    serverLoopDelayMs: { p99: +delay.p99Ms.toFixed(1), max: +delay.maxMs.toFixed(1) },
    slowAnswers: { count: slow, windows: slowWindows.size, inApp: delay.slowInApp },
  };
}

/**
 * The morning's rush: readers whose tokens and briefings the running server has not read yet
 * (not in its caches) all open the app at once. Each of the connections reads the readers' today
 * in the same order, so every reader's first read comes several times at once, as an app's
 * parallel screens, retries and second devices send it; then the same load again, now cached,
 * as the baseline.
 */
async function morningRush(url: string, tokens: string[]) {
  return { cold: await load({ url, tokens }), cached: await load({ url, tokens }) };
}

/**
 * Soak: `GET /v1/briefings/today` at saturation against one long-running server for `minutes`;
 * requests/s and p99 per minute, the last minute against the first, and the server's memory.
 * Target: the last minute keeps ≥ 90% of the first minute's requests/s.
 */
async function soak(tokens: string[], minutes: number) {
  const today = `http://127.0.0.1:${APP_PORT}/v1/briefings/today`;
  const mem = async () =>
    ((await (await fetch(`http://127.0.0.1:${BARE_PORT}/mem`)).json()) as { rssMb: number }).rssMb;
  const rssStart = await mem();
  const perMinute: { n: number; non2xx: number; latencies: number[] }[] = Array.from(
    { length: minutes },
    () => ({
      n: 0,
      non2xx: 0,
      latencies: [],
    }),
  );
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url: today,
        connections: CONNECTIONS,
        duration: minutes * 60,
        // Built once, as in `load`: each request reads as the next subscriber.
        requests: tokens.map((t) => ({ method: "GET" as const, headers: { authorization: `Bearer ${t}` } })),
      },
      (err) => (err ? reject(err) : resolve()),
    );
    instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
      const minute = Math.min(minutes - 1, Math.floor((performance.now() - started) / 60_000));
      const m = perMinute[minute]!;
      m.n++;
      if (status < 200 || status >= 300) m.non2xx++;
      m.latencies.push(ms);
    });
  });
  const rssEnd = await mem();
  const minutesOut = perMinute.map((m, k) => {
    const sorted = m.latencies.sort((a, b) => a - b);
    return {
      minute: k + 1,
      requestsPerSecond: Math.round(m.n / 60),
      p50Ms: +(sorted[Math.floor(sorted.length * 0.5)] ?? 0).toFixed(2),
      p99Ms: +(sorted[Math.floor(sorted.length * 0.99)] ?? 0).toFixed(2),
      non2xx: m.non2xx,
    };
  });
  const first = minutesOut[0]!;
  const last = minutesOut.at(-1)!;
  return {
    bench: "api-soak",
    at: new Date().toISOString(),
    setup: {
      subscribers: SUBSCRIBERS,
      connections: CONNECTIONS,
      databasePool: POOL_SIZE,
      minutes,
      database: "PostgreSQL 15, loopback",
    },
    minutes: minutesOut,
    lastVsFirst: +(last.requestsPerSecond / Math.max(1, first.requestsPerSecond)).toFixed(3),
    target: { lastVsFirst: 0.9, met: last.requestsPerSecond >= 0.9 * first.requestsPerSecond },
    serverRssMb: { start: rssStart, end: rssEnd },
    note: "CPU shared with other work during the run; autocannon runs in this process, the server in a child",
  };
}

async function main() {
  const serverUrl = process.argv[2] ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `daybreak_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = withDatabase(serverUrl, name);
  let server: ChildProcess | undefined;
  try {
    const machine = machineInfo();
    const { tokens: seeded, seedSeconds } = await seed(url);
    const tokens = seeded.slice(0, SUBSCRIBERS);
    const rushTokens = seeded.slice(SUBSCRIBERS);
    server = await startServer(url, 14_260);
    const soakMinutes = Number(process.env.SOAK_MINUTES ?? 0);
    if (soakMinutes > 0) {
      const result = await soak(tokens, soakMinutes);
      mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
      writeFileSync(
        new URL("./results/api-soak.json", import.meta.url),
        `${JSON.stringify(result, null, 2)}\n`,
      );
      console.log(JSON.stringify(result));
      return;
    }
    const today = `http://127.0.0.1:${APP_PORT}/v1/briefings/today`;
    const bare = `http://127.0.0.1:${BARE_PORT}/bare`;
    const probe = await fetch(today, { headers: { authorization: `Bearer ${tokens[0]}` } });
    if (probe.status !== 200) throw new Error(`today answered ${probe.status}`);
    const body = await probe.text();
    // Warm both: JIT, connection pool, caches (the gzip form of each briefing is made here too).
    const gzip = { "accept-encoding": "gzip" };
    await load({ url: bare, duration: 3 });
    await load({ url: today, tokens, duration: 5 });
    await load({ url: today, tokens, duration: 3, headers: gzip });
    // Saturation runs interleaved in rounds, each ratio taken within its round, medians reported:
    // this VM's speed drifts by tens of percent from minute to minute, so one run of each, minutes
    // apart, compares the machine with itself more than the routes with each other.
    // As the app asks: its HTTP stack (OkHttp, URLSession) sends Accept-Encoding: gzip on every
    // request; the bare route's answer is below the compression threshold either way.
    // What each reader's app holds after its first read: the ETag to revalidate with.
    const etags = await Promise.all(
      tokens.map(
        async (t) => (await fetch(today, { headers: { authorization: `Bearer ${t}` } })).headers.get("etag")!,
      ),
    );
    const variants = {
      bare: { url: bare },
      bareSameSize: { url: `http://127.0.0.1:${BARE_PORT}/bare-sized` },
      today: { url: today, tokens },
      bareGzip: { url: bare, headers: gzip },
      todayGzip: { url: today, tokens, headers: gzip },
      // The app re-opening today's briefing it already has: If-None-Match, 304 with no body.
      todayRevalidate: { url: today, tokens, headers: gzip, etags },
    };
    // BENCH_ONLY=today,bare runs just those (e.g. under BENCH_CPU_PROF), prints them, writes nothing.
    const only = process.env.BENCH_ONLY?.split(",");
    const rounds: Record<keyof typeof variants, Run>[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = {} as Record<keyof typeof variants, Run>;
      for (const [name, opts] of Object.entries(variants)) {
        if (only && !only.includes(name)) continue;
        round[name as keyof typeof variants] = await load(opts);
      }
      rounds.push(round);
    }
    // The runs at a fixed 1,000 requests/s.
    const paced = {
      todayAt1000: { url: today, tokens, rate: 1000, duration: 10 },
      todayGzipAt1000: { url: today, tokens, rate: 1000, duration: 10, headers: gzip },
      bareAt1000: { url: bare, rate: 1000, duration: 10 },
    };
    if (only) {
      const pacedRuns: Record<string, Run> = {};
      for (const [name, opts] of Object.entries(paced))
        if (only.includes(name)) pacedRuns[name] = await load(opts);
      const rush = only.includes("rush") ? await morningRush(today, rushTokens) : undefined;
      console.log(JSON.stringify({ rounds, paced: pacedRuns, rush }, null, 1));
      return;
    }
    const medianRun = (name: keyof typeof variants) => medianBy(rounds.map((r) => r[name]));
    const ratioOf = (app: keyof typeof variants, base: keyof typeof variants) =>
      median(rounds.map((r) => r[app].requestsPerSecond / r[base].requestsPerSecond));
    const ratio = ratioOf("today", "bare");
    // The same after each run's first second, when autocannon stalls building the 1,000 tokens'
    // requests for the app's runs only (the bare route has one request): see Run.steady.
    const steadyRatio = median(
      rounds.map((r) => r.today.steady.requestsPerSecond / r.bare.steady.requestsPerSecond),
    );
    const gzipRatio = ratioOf("todayGzip", "bareGzip");
    const revalidateRatio = ratioOf("todayRevalidate", "bareGzip");
    const todayAt1000 = await load(paced.todayAt1000);
    const todayGzipAt1000 = await load(paced.todayGzipAt1000);
    const bareAt1000 = await load(paced.bareAt1000);
    const rush = await morningRush(today, rushTokens);
    const bareMax = medianRun("bare");
    const bareSameSizeMax = medianRun("bareSameSize");
    const todayMax = medianRun("today");
    const bareGzipMax = medianRun("bareGzip");
    const todayGzipMax = medianRun("todayGzip");
    const todayRevalidateMax = medianRun("todayRevalidate");
    const result = {
      bench: "api-load",
      at: new Date().toISOString(),
      // calibrationMs before the seed and after the last run: the machine's speed at each end.
      machine: {
        ...machine,
        calibrationMsAfter: cpuCalibrationMs(),
        note: "CPU shared with other work during the run",
      },
      setup: {
        subscribers: SUBSCRIBERS,
        rushReaders: RUSH_READERS,
        connections: CONNECTIONS,
        databasePool: POOL_SIZE,
        durationSeconds: DURATION_S,
        rounds: ROUNDS,
        seedSeconds,
        todayBodyBytes: Buffer.byteLength(body),
      },
      // Each saturation figure is the run of median requests/s among the rounds.
      bareMax,
      bareSameSizeMax,
      todayMax,
      todayAt1000,
      bareAt1000,
      rush,
      asTheAppAsks: { bareGzipMax, todayGzipMax, todayGzipAt1000, todayRevalidateMax },
      perRound: rounds.map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.requestsPerSecond])),
      ),
      targets: {
        todayVsBare: ratio,
        todayVsBareMet: ratio >= 0.5,
        todayVsBareSteady: steadyRatio,
        todayVsBareGzip: gzipRatio,
        todayVsBareGzipMet: gzipRatio >= 0.5,
        // Judged on the answers after the first second: see Run.steady for what autocannon's own
        // p99 counts there (its start-up stall, not the server's: slowAnswers.inApp says which).
        p99At1000Ms: todayAt1000.steady.p99Ms,
        p99At1000AutocannonMs: todayAt1000.p99Ms,
        p99At1000Met: todayAt1000.steady.p99Ms < 20 && todayAt1000.non2xx === 0 && todayAt1000.errors === 0,
        p99At1000GzipMs: todayGzipAt1000.steady.p99Ms,
        todayRevalidateVsBare: revalidateRatio,
        revalidateAll304: rounds.every(
          (r) =>
            r.todayRevalidate.notModified === r.todayRevalidate.requests && r.todayRevalidate.errors === 0,
        ),
        allAnswers2xx: [
          todayMax,
          todayAt1000,
          bareMax,
          bareAt1000,
          bareGzipMax,
          todayGzipMax,
          todayGzipAt1000,
        ].every((r) => r.non2xx === 0 && r.errors === 0),
      },
    };
    mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
    writeFileSync(
      new URL("./results/api-load.json", import.meta.url),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    console.log(JSON.stringify(result));
  } finally {
    server?.removeAllListeners("exit");
    server?.kill();
    await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
    await admin.end();
  }
}

if (process.argv[2] === "--serve") await runServer(process.argv[3]!);
else await main();
