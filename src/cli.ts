import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import type { DbHandle } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { createDeps, type Deps, sampleFeedsDir } from "./deps.ts";
import { drained, openDailyRunQueue, planDailyRun, QUEUES, startWorkers } from "./jobs/daily-run.ts";
import { runIngest } from "./jobs/pipeline.ts";
import { DEMO_PROFILE, ensureDemoSubscriber, seedSampleSources } from "./jobs/sample-data.ts";
import { todaysRun } from "./jobs/status.ts";
import { AppError } from "./lib/errors.ts";
import { isAfterTodayEverywhere, isCalendarDate, localDate } from "./lib/time.ts";
import { generateBriefings, getBriefingForDate } from "./modules/briefings/index.ts";
import {
  briefingEmailModel,
  deliverBriefing,
  renderBriefingEmail,
  sendDueBriefings,
} from "./modules/delivery/index.ts";
import { activeSubscribers } from "./modules/profiles/index.ts";
import { addSource, listSources, removeSource } from "./modules/sources/index.ts";
import { StoryWindowCache } from "./modules/stories/index.ts";
import { formatLlmUsage, llmUsage } from "./modules/summaries/index.ts";

type Out = { log(line: string): void };

export const USAGE = `daybreak <command>

  serve             HTTP API, with job workers inside unless SERVE_WORKERS=false (migrates on start)
  worker            job workers only: fetch, summarize, build, send (any number, one database)
  migrate           apply database migrations
  demo              sample feeds -> stories -> a briefing -> an email, in one process
  ingest            fetch every source now and print what happened
  tick [--enqueue-only]   enqueue what is due and work it off (for cron); only enqueue when workers run
  generate [--date YYYY-MM-DD]   build briefings now
  send [--date YYYY-MM-DD]       send what is due now (or all of that date)
  sources add <url> [--name N] | sources list | sources remove <id|url>
  status [--watch]  today's run: due, built, sent, failed, jobs waiting; failing sources
  stats [--days N]  model calls and tokens per UTC day (by purpose) and per subscriber, last N days (7)
`;

/** `--date` as the admin routes take it: a real calendar date. */
function dateOption(date: string | undefined): string | undefined {
  if (date !== undefined && !isCalendarDate(date)) {
    throw new AppError("VALIDATION", `--date ${date} is not a real date as YYYY-MM-DD`);
  }
  return date;
}

/** And not after today everywhere: a briefing dated 9999-12-31 would head every reader's list. */
function refuseFutureDate(date: string | undefined, now: Date): void {
  if (date !== undefined && isAfterTodayEverywhere(date, now)) {
    throw new AppError("VALIDATION", `--date ${date} is after today in every time zone`);
  }
}

const TICK_MS = 60_000;
// `daybreak tick` gives up waiting for the queue to empty after this (cron runs it again).
const TICK_DRAIN_MS = 10 * 60_000;

export async function runCli(argv: string[], config: Config, out: Out = console): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serveCommand(config, out, { http: true });
    case "worker":
      return serveCommand(config, out, { http: false });
    case "demo":
      return demoCommand(config, out);
    case "migrate":
      return withDeps(config, async () => {
        out.log("migrations applied");
      });
    case "ingest":
      return withDeps(config, async (deps) => {
        const tty = process.stderr.isTTY;
        const r = await runIngest(deps, {
          onProgress: (done, total) => {
            if (tty) process.stderr.write(`\r${progressBar(done, total)} ${done}/${total} sources`);
          },
        });
        if (tty) process.stderr.write("\n");
        for (const x of r.results) {
          if (x.status === "failed") out.log(`  failed  ${x.sourceId}: ${x.error}`);
        }
        out.log(
          `${r.sources} sources (${r.failed} failed), ${r.articles} new articles, ${r.stories} stories changed, ${r.summarized} summarized`,
        );
      });
    case "tick": {
      const { values } = parseArgs({ args: rest, options: { "enqueue-only": { type: "boolean" } } });
      return withDeps(config, async (deps) => {
        // Enqueue what is due, then help work it off until the queue is empty: with workers
        // running elsewhere they share it; alone (cron and nothing else) this process does it all.
        // With --enqueue-only (workers run as a service), it plans and exits.
        const queue = await openDailyRunQueue(deps.dbHandle, deps);
        try {
          const plan = await planDailyRun(deps, queue);
          let done = true;
          if (!values["enqueue-only"]) {
            await startWorkers(
              deps,
              queue,
              { storyWindow: new StoryWindowCache() },
              { concurrency: config.WORKER_CONCURRENCY, pollingIntervalSeconds: 0.5 },
            );
            done = await drained(queue, TICK_DRAIN_MS);
          }
          const r = await todaysRun(deps);
          out.log(
            `planned ${plan.sources} source fetches and ${plan.planned} briefings (${plan.resent} resends); last 24 h: built ${r.built}, sent ${r.sent}, failed ${r.failed}${done ? "" : "; jobs still queued"}`,
          );
        } finally {
          await queue.stop(30_000);
        }
      });
    }
    case "generate": {
      const { values } = parseArgs({ args: rest, options: { date: { type: "string" } } });
      const date = dateOption(values.date);
      return withDeps(config, async (deps) => {
        refuseFutureDate(date, deps.clock.now());
        const r = await generateBriefings(deps, { date, onlyWhereBegun: true });
        out.log(`generated ${r.generated} briefings, skipped ${r.skipped}`);
      });
    }
    case "send": {
      const { values } = parseArgs({ args: rest, options: { date: { type: "string" } } });
      const date = dateOption(values.date);
      return withDeps(config, async (deps) => {
        refuseFutureDate(date, deps.clock.now());
        const r = await sendDueBriefings(deps, { date });
        out.log(`sent ${r.sent}, failed ${r.failed}, skipped ${r.skipped}`);
      });
    }
    case "sources":
      return sourcesCommand(config, rest, out);
    case "status": {
      const { values } = parseArgs({ args: rest, options: { watch: { type: "boolean" } } });
      return withDeps(config, async (deps) => {
        // --watch redraws every second while the morning's run is in progress.
        const tty = process.stdout.isTTY;
        for (;;) {
          const r = await todaysRun(deps);
          const bar = r.due ? ` ${progressBar(r.sent + r.failed, r.due)}` : "";
          const queued = Object.entries(r.queue)
            .filter(([, n]) => n > 0)
            .map(([q, n]) => `${q} ${n}`)
            .join(", ");
          const line = `subscribers ${r.subscribers}, due now ${r.due}; last 24 h: built ${r.built}, sent ${r.sent}, failed ${r.failed}, in progress ${r.inProgress}${bar}${queued ? `; jobs waiting: ${queued}` : ""}`;
          const running = r.inProgress > 0 || queued !== "";
          if (!values.watch || !running) {
            if (values.watch && tty) process.stdout.write("\r\x1b[K");
            out.log(line);
            out.log(`sources ${r.sources}, failing ${r.failingSources.length}`);
            for (const src of r.failingSources) out.log(`  ${src.name}: ${src.error}`);
            return;
          }
          if (tty) process.stdout.write(`\r\x1b[K${line}`);
          else out.log(line);
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      });
    }
    case "stats": {
      const { values } = parseArgs({ args: rest, options: { days: { type: "string" } } });
      const days = Number(values.days ?? 7);
      if (!Number.isInteger(days) || days < 1)
        throw new Error("usage: daybreak stats [--days N] (N a whole number of days, at least 1)");
      return withDeps(config, async (deps) => {
        const now = deps.clock.now();
        const since = new Date(
          Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (days - 1) * 86400_000,
        );
        const usage = await llmUsage(deps, since);
        const active = (await activeSubscribers(deps)).length;
        for (const line of formatLlmUsage(usage, {
          since,
          activeSubscribers: active,
          model: deps.llm?.model,
          budget: deps.llm ? config.LLM_DAILY_TOKEN_BUDGET : undefined,
        }))
          out.log(line);
      });
    }
    case undefined:
    case "help":
    case "--help":
      out.log(USAGE);
      return 0;
    default:
      out.log(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

export function progressBar(done: number, total: number, width = 30): string {
  // More can be done than was due (a reader moved into the window, a retry counted twice).
  const filled = total === 0 ? width : Math.min(width, Math.max(0, Math.round((done / total) * width)));
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

async function withDeps(
  config: Config,
  fn: (deps: Deps & { dbHandle: DbHandle }) => Promise<void>,
): Promise<number> {
  const deps = await createDeps(config);
  try {
    await migrate(deps.dbHandle);
    await fn(deps);
    return 0;
  } finally {
    await deps.close();
  }
}

async function sourcesCommand(config: Config, args: string[], out: Out): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { name: { type: "string" } },
  });
  const [sub, arg] = positionals;
  return withDeps(config, async (deps) => {
    if (sub === "add" && arg) {
      const s = await addSource(deps, { url: arg, name: values.name });
      out.log(`added ${s.id} ${s.url}`);
    } else if (sub === "remove" && arg) {
      await removeSource(deps, arg);
      out.log(`removed ${arg}`);
    } else if (sub === "list" || sub === undefined) {
      for (const s of await listSources(deps)) {
        const health = s.consecutiveFailures
          ? `failing x${s.consecutiveFailures}: ${s.lastError}`
          : s.lastSuccessAt
            ? "ok"
            : "never fetched";
        out.log(`${s.id}  ${s.url}  ${s.name}  [${health}]`);
      }
    } else {
      throw new Error("usage: daybreak sources add <url> [--name N] | list | remove <id|url>");
    }
  });
}

/** Sample sources and the demo subscriber, with today's briefing built, when the data dir is new. */
async function prepareSampleData(deps: Deps, out: Out) {
  const seeded = await seedSampleSources(deps, sampleFeedsDir);
  const demo = await ensureDemoSubscriber(deps);
  if (seeded > 0) {
    await runIngest(deps);
    await generateBriefings(deps, { subscriberIds: [demo.subscriber.id] });
  }
  out.log(`demo subscriber ${demo.subscriber.email}; token in ${demo.tokenFile}`);
  return demo;
}

async function serveCommand(config: Config, out: Out, opts: { http: boolean }): Promise<number> {
  const deps = await createDeps(config);
  await migrate(deps.dbHandle);
  if (config.sampleData) await prepareSampleData(deps, out);

  // The daily run's workers; any number of processes share the queue. A plan is asked for every
  // minute; the queue keeps one waiting at most, however many processes ask.
  let stopping = false;
  const queue = !opts.http || config.SERVE_WORKERS ? await openDailyRunQueue(deps.dbHandle, deps) : null;
  if (queue) {
    await startWorkers(
      deps,
      queue,
      { storyWindow: new StoryWindowCache() },
      {
        concurrency: config.WORKER_CONCURRENCY,
        queues: config.WORKER_QUEUES,
      },
    );
  }
  const plan = () => {
    if (!stopping && queue) {
      queue
        .send(QUEUES.plan, { data: {}, singletonKey: "plan" })
        .catch((err) => deps.logger.error({ err }, "could not enqueue the plan"));
    }
  };
  plan();
  const timer = setInterval(plan, TICK_MS);

  const server = opts.http
    ? serve(
        {
          fetch: createApp(deps).fetch,
          port: config.PORT,
          hostname: config.HOST,
          // A request trickled in (headers or a body slower than any client sends) is cut off
          // after 30 s with 408, not Node's 300 s: each one held a connection and its buffers.
          serverOptions: { requestTimeout: 30_000, headersTimeout: 20_000 },
        },
        (info) => {
          out.log(`Daybreak listening on http://localhost:${info.port} (${deps.dbHandle.driver})`);
        },
      )
    : null;
  if (!opts.http) out.log(`Daybreak worker running (${deps.dbHandle.driver})`);

  return new Promise((resolveExit) => {
    const shutdown = async () => {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      server?.close();
      await queue?.stop(30_000);
      await deps.close();
      resolveExit(0);
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  });
}

/**
 * Everything in one process with no server, key or network: sample feeds in, stories grouped
 * and summarized, a briefing for the demo reader, its email rendered and dropped in the outbox.
 */
async function demoCommand(config: Config, out: Out): Promise<number> {
  // A fresh in-memory database each time (unless DATABASE_URL is set): the demo never
  // collides with a running `npm start` over the same data dir.
  const deps = await createDeps({ ...config, sampleData: true }, { inMemoryDb: !config.DATABASE_URL });
  try {
    await migrate(deps.dbHandle);
    await seedSampleSources(deps, sampleFeedsDir);
    const ingest = await runIngest(deps);
    const demo = await ensureDemoSubscriber({
      ...deps,
      config: { ...deps.config, DATA_DIR: join(config.DATA_DIR, "demo") },
    });
    const date = localDate(deps.clock.now(), DEMO_PROFILE.timezone);
    await generateBriefings(deps, { subscriberIds: [demo.subscriber.id], date });
    const briefing = await getBriefingForDate(deps, demo.subscriber.id, date);
    const template = await deps.templates.get("briefing");
    const email = renderBriefingEmail(template, briefingEmailModel(briefing, demo.subscriber));
    const dir = resolve(config.DATA_DIR, "demo");
    await mkdir(dir, { recursive: true });
    const htmlFile = join(dir, `briefing-${date}.html`);
    await writeFile(htmlFile, email.html);
    const sent = await deliverBriefing(deps, demo.subscriber, date);

    out.log(
      `Daybreak demo: ${ingest.sources} sample feeds, ${ingest.articles} articles, ${ingest.stories} stories`,
    );
    out.log(
      `Briefing for ${demo.subscriber.name} (${demo.subscriber.role}, ${demo.subscriber.industry}) on ${date}:`,
    );
    for (const item of briefing.items) {
      const domains = [...new Set(item.story.sources.map((s) => s.domain))].join(", ");
      out.log(`  ${item.rank}. ${item.story.headline} (${domains})`);
      out.log(`     why: ${item.reason}`);
    }
    out.log(`Email HTML: ${htmlFile}`);
    if (sent.status === "sent" && sent.location) out.log(`Email (.eml): ${sent.location}`);
    return 0;
  } finally {
    await deps.close();
  }
}
