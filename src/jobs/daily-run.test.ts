import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../test/db.ts";
import { createTestDeps } from "../../test/deps.ts";
import type { DbHandle } from "../db/client.ts";
import { deliveries } from "../db/schema/index.ts";
import { sampleFeedsDir } from "../deps.ts";
import { type JobQueue, openJobQueue } from "../integrations/queue/job-queue.ts";
import { silentLogger } from "../lib/logger.ts";
import { createSubscriber } from "../modules/profiles/index.ts";
import { StoryWindowCache } from "../modules/stories/index.ts";
import { listStoriesWithSources } from "../modules/summaries/index.ts";
import { drained, planDailyRun, QUEUE_SPECS, startWorkers } from "./daily-run.ts";
import { renderMetrics } from "./metrics.ts";
import { seedSampleSources } from "./sample-data.ts";
import { todaysRun } from "./status.ts";

// 06:00 UTC nobody is due. At 07:05 UTC London (07:00) and Lisbon (06:30) are; New York (02:05)
// and Tokyo (16:05, with 18:00 chosen) are not.
const EARLY = "2026-11-27T06:00:00Z";
const NOW = "2026-11-27T07:05:00Z";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
const queues: JobQueue[] = [];

const profile = (i: number, timezone: string, deliveryTime: string) => ({
  email: `reader${i}@example.com`,
  role: "Supply chain director",
  industry: "Semiconductors",
  interests: ["export controls"],
  timezone,
  deliveryTime,
});

beforeAll(async () => {
  db = await createTestDb();
  deps = await createTestDeps(db, { now: EARLY });
  await seedSampleSources(deps, sampleFeedsDir);
  for (let i = 0; i < 12; i++) await createSubscriber(deps, profile(i, "Europe/London", "07:00"));
  for (let i = 12; i < 16; i++) await createSubscriber(deps, profile(i, "Europe/Lisbon", "06:30"));
  for (let i = 16; i < 20; i++) await createSubscriber(deps, profile(i, "America/New_York", "07:00"));
  for (let i = 20; i < 24; i++) await createSubscriber(deps, profile(i, "Asia/Tokyo", "18:00"));
});
afterAll(async () => {
  for (const q of queues) await q.stop(5_000);
  await db.close();
});

async function worker() {
  const queue = await openJobQueue(db, QUEUE_SPECS, silentLogger, { poolSize: 2 });
  queues.push(queue);
  await startWorkers(deps, queue, { storyWindow: new StoryWindowCache() }, { pollingIntervalSeconds: 0.5 });
  return queue;
}

describe("the daily run on the PostgreSQL job queue", () => {
  it("fetches, groups and summarizes the news through queued jobs before anyone is due", async () => {
    // One after the other: the embedded PGlite (no TEST_DATABASE_URL) is a single session.
    const a = await worker();
    await worker();
    const plan = await planDailyRun(deps, a, { allSources: true });
    expect(plan).toMatchObject({ sources: 4, planned: 0 });
    expect(await drained(a, 60_000)).toBe(true);
    const stories = await listStoriesWithSources(deps, new Date("2026-11-20T00:00:00Z"));
    expect(stories.filter((s) => s.sources.length >= 2).length).toBeGreaterThanOrEqual(5);
    expect(deps.mailer.sent).toHaveLength(0);
  });

  it("builds and sends through jobs shared by two workers: one email per due subscriber", async () => {
    deps.clock.set(NOW);
    const a = queues[0]!;
    const plan = await planDailyRun(deps, a);
    expect(plan).toMatchObject({ planned: 16 });
    expect(await drained(a, 60_000)).toBe(true);

    const recipients = deps.mailer.sent.map((m) => m.to);
    expect(new Set(recipients).size).toBe(16);
    expect(recipients).toHaveLength(16);
    expect(recipients.every((r) => /reader(\d|1[0-5])@/.test(r))).toBe(true);
    const rows = await deps.db.select().from(deliveries);
    expect(rows.filter((r) => r.status === "sent")).toHaveLength(16);
  });

  it("planning again the same morning sends nothing more", async () => {
    const queue = queues[0]!;
    const plan = await planDailyRun(deps, queue);
    expect(plan.planned).toBe(0);
    expect(await drained(queue, 30_000)).toBe(true);
    expect(deps.mailer.sent).toHaveLength(16);
  });

  it("a delivery whose job was lost is found by the planner and sent once", async () => {
    const queue = queues[0]!;
    const [late] = await deps.db.select().from(deliveries).where(eq(deliveries.status, "sent")).limit(1);
    // As if the row had been planned long ago and its send job never ran.
    await deps.db
      .update(deliveries)
      .set({ status: "queued", createdAt: new Date("2026-11-27T06:00:00Z"), messageId: null })
      .where(eq(deliveries.id, late!.id));
    const before = deps.mailer.sent.length;
    const plan = await planDailyRun(deps, queue);
    expect(plan.resent).toBe(1);
    expect(await drained(queue, 30_000)).toBe(true);
    expect(deps.mailer.sent.length).toBe(before + 1);
  });

  it("reports queue depth, job latency and emails by status on /metrics", async () => {
    const text = await renderMetrics(deps);
    expect(text).toMatch(/^daybreak_emails_total\{status="sent"\} 16$/m);
    expect(text).toMatch(/^daybreak_queue_wait_seconds\{queue="send-briefing"\} [\d.]+$/m);
    expect(text).toMatch(/^daybreak_job_run_seconds\{queue="fetch-source"\} [\d.]+$/m);
  });

  it("daybreak status counts today's run from the database and the queue", async () => {
    const r = await todaysRun(deps);
    expect(r).toMatchObject({ subscribers: 24, due: 16, built: 16, sent: 16, failed: 0, inProgress: 0 });
    expect(r.queue).toEqual({});
  });
});
