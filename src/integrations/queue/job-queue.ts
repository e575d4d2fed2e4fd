import PgBoss from "pg-boss";
import type { DbHandle } from "../../db/client.ts";
import type { Logger } from "../../lib/logger.ts";

/**
 * The daily run's job queue: pg-boss, in the same PostgreSQL as everything else (its own
 * `pgboss` schema). Any number of processes on any number of machines share it; with the
 * embedded PGlite, one process runs the same jobs through the same queue.
 */
export type QueuePolicy = "standard" | "short" | "singleton" | "stately";

export type QueueSpec = {
  name: string;
  /** short: one waiting job per key; stately: one waiting and one running per key. */
  policy: QueuePolicy;
  retryLimit: number;
  retryDelaySeconds: number;
  /** A job running longer than this is taken to be dead (its worker killed) and retried. */
  expireInSeconds: number;
};

export type JobToSend = { data: object; singletonKey?: string; startAfterSeconds?: number };

export type JobQueue = {
  send(queue: string, job: JobToSend): Promise<string | null>;
  /** Many jobs in one round trip (a multi-row insert). */
  sendMany(queue: string, jobs: JobToSend[]): Promise<void>;
  /**
   * Runs `handler` for jobs of `queue`; a thrown error fails the job, which pg-boss retries
   * with backoff up to the queue's retry limit.
   */
  work<T>(
    queue: string,
    opts: { batchSize?: number; pollingIntervalSeconds?: number },
    handler: (jobs: { id: string; data: T }[]) => Promise<void>,
  ): Promise<void>;
  /** Queued, running and failed jobs per queue. */
  depth(): Promise<Record<string, { queued: number; active: number; failed: number }>>;
  /** Stops fetching new jobs and waits (up to `timeoutMs`) for running ones. */
  stop(timeoutMs?: number): Promise<void>;
};

/** Opens pg-boss on the database of `handle`, creating its schema and the given queues. */
export async function openJobQueue(
  handle: DbHandle,
  queues: QueueSpec[],
  logger: Logger,
  opts: {
    maintenance?: boolean;
    poolSize?: number;
    /** Overrides every queue's expiry (fault drills and tests). */
    jobTimeoutSeconds?: number;
    maintenanceIntervalSeconds?: number;
  } = {},
): Promise<JobQueue> {
  if (!handle.raw) throw new Error("this database handle cannot host a job queue");
  const connection =
    "url" in handle.raw
      ? { connectionString: handle.raw.url, max: opts.poolSize ?? 4 }
      : {
          db: {
            executeSql: handle.raw.executeSql as (
              text: string,
              values: unknown[],
            ) => Promise<{ rows: unknown[] }>,
          },
        };
  const boss = new PgBoss({
    ...connection,
    application_name: "daybreak",
    // One process in many runs the maintenance (archiving, expiry); pg-boss elects it.
    supervise: opts.maintenance ?? true,
    maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds ?? 60,
    schedule: false,
    migrate: true,
  });
  boss.on("error", (err) => logger.error({ err }, "job queue error"));
  await boss.start();
  await ensureQueues(
    boss,
    queues.map((q) => ({ ...q, expireInSeconds: opts.jobTimeoutSeconds ?? q.expireInSeconds })),
  );
  const names = queues.map((q) => q.name);

  return {
    send: (queue, job) =>
      boss.send(queue, job.data, {
        singletonKey: job.singletonKey,
        startAfter: job.startAfterSeconds,
      }),
    async sendMany(queue, jobs) {
      // pg-boss inserts each call's jobs with one statement; keep statements a sane size.
      for (let i = 0; i < jobs.length; i += 1000) {
        await boss.insert(
          jobs.slice(i, i + 1000).map((j) => ({
            name: queue,
            data: j.data,
            singletonKey: j.singletonKey,
            startAfter: j.startAfterSeconds ? new Date(Date.now() + j.startAfterSeconds * 1000) : undefined,
          })),
        );
      }
    },
    async work<T>(
      queue: string,
      workOpts: { batchSize?: number; pollingIntervalSeconds?: number },
      handler: (jobs: { id: string; data: T }[]) => Promise<void>,
    ) {
      // pg-boss waits out the polling interval after every fetch, even one that found jobs: a
      // build job of 0.5 s then left the worker idle 1.5 s of every 2 (measured: a worker was
      // idle 80% of a morning's build). A worker that found jobs asks for more at once; only an
      // empty fetch waits for the interval.
      let workerId: string | undefined;
      workerId = await boss.work<T>(
        queue,
        { batchSize: workOpts.batchSize ?? 1, pollingIntervalSeconds: workOpts.pollingIntervalSeconds ?? 2 },
        async (jobs) => {
          await handler(jobs.map((j) => ({ id: j.id, data: j.data })));
          if (jobs.length > 0 && workerId) boss.notifyWorker(workerId);
        },
      );
    },
    async depth() {
      const out: Record<string, { queued: number; active: number; failed: number }> = {};
      for (const name of names) out[name] = { queued: 0, active: 0, failed: 0 };
      const { rows } = await boss
        .getDb()
        .executeSql(
          "SELECT name, state, count(*)::int AS n FROM pgboss.job WHERE name = ANY($1) AND state IN ('created', 'retry', 'active', 'failed') GROUP BY name, state",
          [names],
        );
      for (const r of rows as { name: string; state: string; n: number }[]) {
        const q = out[r.name]!;
        if (r.state === "active") q.active += Number(r.n);
        else if (r.state === "failed") q.failed += Number(r.n);
        else q.queued += Number(r.n);
      }
      return out;
    },
    async stop(timeoutMs = 30_000) {
      await boss.stop({ graceful: true, wait: true, timeout: timeoutMs, close: true });
    },
  };
}

/**
 * Creates or updates the queues. Workers starting together race to create the same queue tables
 * and PostgreSQL may abort one of them as a deadlock: that one reads what exists and tries again.
 */
async function ensureQueues(boss: PgBoss, queues: QueueSpec[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set((await boss.getQueues()).map((q) => q.name));
      for (const q of queues) {
        const options = {
          name: q.name,
          policy: q.policy,
          retryLimit: q.retryLimit,
          retryDelay: q.retryDelaySeconds,
          retryBackoff: true,
          expireInSeconds: q.expireInSeconds,
        };
        if (existing.has(q.name)) await boss.updateQueue(q.name, options);
        else await boss.createQueue(q.name, options);
      }
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const race = code === "40P01" || code === "23505" || code === "42P07";
      if (!race || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200 * attempt));
    }
  }
}
