import type { DbHandle } from "../db/client.ts";
import type { Deps } from "../deps.ts";
import { type JobQueue, openJobQueue, type QueueSpec } from "../integrations/queue/job-queue.ts";
import { ingestSource } from "../modules/articles/index.ts";
import {
  type BriefingView,
  briefingKey,
  briefingViews,
  generateBriefings,
  RankingRunCache,
} from "../modules/briefings/index.ts";
import { claimDueDeliveries, deliverBriefing, stalledDeliveries } from "../modules/delivery/index.ts";
import { activeSubscribers, type Subscriber } from "../modules/profiles/index.ts";
import { dueSources, listSources } from "../modules/sources/index.ts";
import { clusterArticles, type StoryWindowCache } from "../modules/stories/index.ts";
import { storiesToSummarize, summarizeStory } from "../modules/summaries/index.ts";

/**
 * The daily run as jobs on the PostgreSQL queue. The planner claims what is due; every other
 * job does one idempotent piece and enqueues the next:
 *
 *   plan -> fetch-source (per due source) -> group-stories -> summarize-story (per changed story)
 *        -> build-briefings (per batch of due subscribers) -> send-briefing (per delivery)
 *
 * Any number of workers in any number of processes take jobs; a job whose worker dies expires
 * and is retried, and each handler is safe to run twice (exactly-once lives in the data: the
 * delivery claim, the briefing's unique (subscriber, date), the summary's story revision).
 */
export const QUEUES = {
  plan: "plan",
  fetchSource: "fetch-source",
  groupStories: "group-stories",
  summarizeStory: "summarize-story",
  buildBriefings: "build-briefings",
  sendBriefing: "send-briefing",
} as const;

export const QUEUE_SPECS: QueueSpec[] = [
  // One plan waiting and one running at most, however many processes ask every minute.
  { name: QUEUES.plan, policy: "stately", retryLimit: 2, retryDelaySeconds: 5, expireInSeconds: 300 },
  // Feed failures are recorded on the source (with its own back-off), not retried here.
  { name: QUEUES.fetchSource, policy: "short", retryLimit: 1, retryDelaySeconds: 30, expireInSeconds: 300 },
  { name: QUEUES.groupStories, policy: "stately", retryLimit: 3, retryDelaySeconds: 5, expireInSeconds: 600 },
  {
    name: QUEUES.summarizeStory,
    policy: "short",
    retryLimit: 3,
    retryDelaySeconds: 30,
    expireInSeconds: 300,
  },
  {
    name: QUEUES.buildBriefings,
    policy: "standard",
    retryLimit: 5,
    retryDelaySeconds: 5,
    expireInSeconds: 600,
  },
  // Longer than a send's worst case: three attempts against a relay that hangs after its greeting
  // (30 s greeting + 60 s socket timeout each). At 180 s the queue re-ran the job while the first
  // run was still waiting (the delivery's claim kept it from sending twice, not from waiting twice).
  { name: QUEUES.sendBriefing, policy: "short", retryLimit: 5, retryDelaySeconds: 10, expireInSeconds: 300 },
];

/** The daily run's queue on the process's database, with the operator's timing settings. */
export function openDailyRunQueue(
  handle: DbHandle,
  deps: Pick<Deps, "logger" | "config">,
): Promise<JobQueue> {
  return openJobQueue(handle, QUEUE_SPECS, deps.logger, {
    jobTimeoutSeconds: deps.config.JOB_TIMEOUT_SECONDS,
    maintenanceIntervalSeconds: deps.config.QUEUE_MAINTENANCE_SECONDS,
  });
}

/** Send jobs fetched at once: their subscribers and briefings are read together. */
export const SEND_BATCH = 25;

/** Subscribers ranked and written per build job: stories and summaries are loaded once per batch. */
export const BUILD_BATCH = 500;

export type PlanSummary = { sources: number; planned: number; resent: number };

type RunDeps = Pick<
  Deps,
  "db" | "clock" | "fetcher" | "logger" | "llm" | "config" | "mailer" | "templates" | "summaryCache"
>;

/** Enqueues what is due now: feeds to fetch, subscribers whose morning has come, stalled sends. */
export async function planDailyRun(
  deps: RunDeps,
  queue: JobQueue,
  opts: { allSources?: boolean } = {},
): Promise<PlanSummary> {
  const sources = (opts.allSources ? await listSources(deps) : await dueSources(deps)).filter(
    (s) => s.enabled,
  );
  await queue.sendMany(
    QUEUES.fetchSource,
    sources.map((s) => ({ data: { sourceId: s.id }, singletonKey: s.id })),
  );

  const due = await claimDueDeliveries(deps);
  const byDate = new Map<string, string[]>();
  for (const d of due) {
    const ids = byDate.get(d.localDate);
    if (ids) ids.push(d.subscriberId);
    else byDate.set(d.localDate, [d.subscriberId]);
  }
  const batches: { data: object }[] = [];
  for (const [localDate, ids] of byDate) {
    for (let i = 0; i < ids.length; i += BUILD_BATCH) {
      batches.push({ data: { localDate, subscriberIds: ids.slice(i, i + BUILD_BATCH) } });
    }
  }
  await queue.sendMany(QUEUES.buildBriefings, batches);

  const stalled = await stalledDeliveries(deps);
  await queue.sendMany(QUEUES.sendBriefing, stalled.map(sendJob));
  const summary = { sources: sources.length, planned: due.length, resent: stalled.length };
  if (sources.length || due.length || stalled.length) deps.logger.info(summary, "daily run planned");
  return summary;
}

const sendJob = (d: { subscriberId: string; localDate: string }) => ({
  data: d,
  singletonKey: `${d.subscriberId}:${d.localDate}`,
});

type Handlers = {
  [QUEUES.plan]: Record<string, never>;
  [QUEUES.fetchSource]: { sourceId: string };
  [QUEUES.groupStories]: Record<string, never>;
  [QUEUES.summarizeStory]: { storyId: string };
  [QUEUES.buildBriefings]: { localDate: string; subscriberIds: string[] };
  [QUEUES.sendBriefing]: { subscriberId: string; localDate: string };
};

/** Runs `fn` over `items` with at most `limit` in flight (bounded at the database pool's size). */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** What a batch of send jobs reads at once: its active subscribers and their briefings. */
type SendBatch = { subscribers: Map<string, Subscriber>; briefings: Map<string, BriefingView> };

async function readSendBatch(deps: RunDeps, jobs: Handlers["send-briefing"][]): Promise<SendBatch> {
  const subs = await activeSubscribers(
    deps,
    jobs.map((j) => j.subscriberId),
  );
  const active = new Set(subs.map((s) => s.id));
  const briefings = await briefingViews(
    deps,
    jobs
      .filter((j) => active.has(j.subscriberId))
      .map((j) => ({ subscriberId: j.subscriberId, date: j.localDate })),
  );
  return { subscribers: new Map(subs.map((s) => [s.id, s])), briefings };
}

/** What a worker process keeps between jobs: the clustering window and the last ranking run. */
export type WorkerState = { storyWindow?: StoryWindowCache; rankingRuns?: RankingRunCache };

/** The work each job does; exported for tests and for `daybreak tick`'s drain. */
export function jobHandlers(deps: RunDeps, queue: JobQueue, state: WorkerState = {}) {
  const runs = state.rankingRuns ?? new RankingRunCache();
  return {
    async [QUEUES.plan]() {
      await planDailyRun(deps, queue);
    },
    async [QUEUES.fetchSource](job: Handlers["fetch-source"]) {
      const source = (await listSources(deps)).find((s) => s.id === job.sourceId);
      if (!source?.enabled) return;
      const r = await ingestSource(deps, source);
      if (r.status === "ok" && r.added > 0) {
        await queue.send(QUEUES.groupStories, { data: {}, singletonKey: "all" });
      }
    },
    async [QUEUES.groupStories]() {
      const clustered = await clusterArticles(deps, state.storyWindow);
      const storyIds = await storiesToSummarize(deps, clustered.storyIds);
      await queue.sendMany(
        QUEUES.summarizeStory,
        storyIds.map((storyId) => ({ data: { storyId }, singletonKey: storyId })),
      );
    },
    async [QUEUES.summarizeStory](job: Handlers["summarize-story"]) {
      await summarizeStory(deps, job.storyId);
    },
    async [QUEUES.buildBriefings](job: Handlers["build-briefings"]) {
      await generateBriefings(deps, { subscriberIds: job.subscriberIds, date: job.localDate, runs });
      await queue.sendMany(
        QUEUES.sendBriefing,
        job.subscriberIds.map((subscriberId) => sendJob({ subscriberId, localDate: job.localDate })),
      );
    },
    async [QUEUES.sendBriefing](job: Handlers["send-briefing"], batch?: SendBatch) {
      const subscriber = batch
        ? batch.subscribers.get(job.subscriberId)
        : (await activeSubscribers(deps, [job.subscriberId]))[0];
      if (!subscriber) return;
      let outcome = await deliverBriefing(deps, subscriber, job.localDate, {
        briefing: batch
          ? (batch.briefings.get(briefingKey(subscriber.id, job.localDate)) ?? null)
          : undefined,
      });
      if (outcome.status === "skipped" && outcome.reason === "no_briefing") {
        // A lost or failed build left no briefing: build this one alone and try again.
        await generateBriefings(deps, { subscriberIds: [subscriber.id], date: job.localDate, runs });
        outcome = await deliverBriefing(deps, subscriber, job.localDate);
      }
      // Still none (no summarized news yet): fail, so the queue tries again with backoff. A
      // transient SMTP failure is not thrown: it is recorded with its next attempt time, and the
      // planner enqueues the delivery again when that time comes.
      if (outcome.status === "skipped" && outcome.reason === "no_briefing") {
        throw new Error(`no briefing for ${job.localDate} yet: no summarized stories to build it from`);
      }
    },
  };
}

/** Starts this process's workers on every queue of the daily run. */
export async function startWorkers(
  deps: RunDeps,
  queue: JobQueue,
  state: WorkerState = {},
  opts: { concurrency?: number; pollingIntervalSeconds?: number; queues?: string[] } = {},
): Promise<void> {
  const unknown = (opts.queues ?? []).filter((q) => !Object.values(QUEUES).includes(q as never));
  if (unknown.length) {
    throw new Error(
      `unknown queue ${unknown.join(", ")}: the queues are ${Object.values(QUEUES).join(", ")}`,
    );
  }
  const handlers = jobHandlers(deps, queue, state);
  const concurrency = opts.concurrency ?? 4;
  const polling = opts.pollingIntervalSeconds ?? 2;
  // `readBatch`, when given, reads what a fetched batch of jobs shares before any of them runs.
  const one = async <K extends keyof Handlers, B = undefined>(
    name: K,
    batchSize = 1,
    pollers = 1,
    readBatch?: (jobs: Handlers[K][]) => Promise<B>,
  ) => {
    if (opts.queues?.length && !opts.queues.includes(name)) return;
    const handle = handlers[name] as (data: Handlers[K], batch?: B) => Promise<void>;
    const work = async (jobs: { id: string; data: Handlers[K] }[]) => {
      const batch = readBatch ? await readBatch(jobs.map((j) => j.data)) : undefined;
      await eachLimited(jobs, concurrency, async (job) => {
        const log = deps.logger.child({ job: job.id, queue: name });
        const started = performance.now();
        try {
          await handle(job.data, batch);
          log.debug({ ms: Math.round(performance.now() - started) }, "job done");
        } catch (err) {
          log.warn({ err }, "job failed; the queue retries it");
          throw err;
        }
      });
    };
    await Promise.all(
      Array.from({ length: pollers }, () =>
        queue.work<Handlers[K]>(name, { batchSize, pollingIntervalSeconds: polling }, work),
      ),
    );
  };
  await Promise.all([
    one(QUEUES.plan),
    one(QUEUES.fetchSource, 1, concurrency),
    one(QUEUES.groupStories),
    one(QUEUES.summarizeStory, 4),
    // Two build batches in flight: one is ranked here while the other is written by PostgreSQL.
    one(QUEUES.buildBriefings, 1, 2),
    // Sends read their subscribers and briefings for the whole batch in a few queries.
    one(QUEUES.sendBriefing, SEND_BATCH, 2, (jobs) => readSendBatch(deps, jobs)),
  ]);
}

/** Waits until no job of the daily run is waiting or running (or `timeoutMs` passes). */
export async function drained(queue: JobQueue, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const depth = await queue.depth();
    if (Object.values(depth).every((q) => q.queued === 0 && q.active === 0)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
