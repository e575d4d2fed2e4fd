import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../test/db.ts";
import { createTestDeps } from "../../test/deps.ts";
import { type FakeOpenAi, startFakeOpenAi } from "../../test/openai-server.ts";
import { type DbHandle, rowsOf } from "../db/client.ts";
import { sampleFeedsDir } from "../deps.ts";
import { createOpenAiClient } from "../integrations/llm/openai-client.ts";
import { type JobQueue, openJobQueue } from "../integrations/queue/job-queue.ts";
import { silentLogger } from "../lib/logger.ts";
import { createSubscriber } from "../modules/profiles/index.ts";
import { StoryWindowCache } from "../modules/stories/index.ts";
import { drained, planDailyRun, QUEUE_SPECS, startWorkers } from "./daily-run.ts";
import { seedSampleSources } from "./sample-data.ts";

/**
 * The daily run while the model misbehaves (429 with Retry-After, 500, a hang past the timeout):
 * summaries fall back to extractive, "why it matters" to the offline line, and every due
 * subscriber still gets exactly one email; each failed call is recorded with its outcome.
 * The real openai SDK talks HTTP to a local fake; the embedding endpoint fails the same way.
 */
let db: DbHandle;
let fake: FakeOpenAi;
const queues: JobQueue[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop(5_000);
  await db?.close();
});
afterAll(async () => {
  await fake.close();
});

async function morning(fault: "rate_limited" | "server_error" | "hang") {
  db = await createTestDb();
  fake.fault = fault;
  fake.faults = Number.POSITIVE_INFINITY;
  fake.retryAfter = "1";
  fake.embeddings = () => ({ status: fault === "rate_limited" ? 429 : 500 });
  const llm = createOpenAiClient({
    apiKey: "test-key",
    baseURL: fake.baseURL,
    model: "fake-chat",
    maxRetries: 1,
    timeoutMs: 1500,
  });
  const deps = await createTestDeps(db, { llm, now: "2026-11-27T06:00:00Z" });
  await seedSampleSources(deps, sampleFeedsDir);
  for (let i = 0; i < 6; i++) {
    await createSubscriber(deps, {
      email: `reader${i}@example.com`,
      role: "Chief risk officer",
      industry: "Banking",
      timezone: "Europe/London",
      deliveryTime: "07:00",
    });
  }
  const queue = await openJobQueue(db, QUEUE_SPECS, silentLogger, { poolSize: 2 });
  queues.push(queue);
  await startWorkers(deps, queue, { storyWindow: new StoryWindowCache() }, { pollingIntervalSeconds: 0.5 });
  // News first (as every morning: ingestion runs all night), then the deliveries.
  await planDailyRun(deps, queue, { allSources: true });
  expect(await drained(queue, 90_000)).toBe(true);
  deps.clock.set("2026-11-27T07:05:00Z");
  const plan = await planDailyRun(deps, queue);
  expect(plan.planned).toBe(6);
  expect(await drained(queue, 90_000)).toBe(true);
  return deps;
}

describe.each(["rate_limited", "server_error", "hang"] as const)(
  "the daily run with a model that answers %s",
  (fault) => {
    it("sends every due subscriber one email with extractive summaries and records the failed calls", async () => {
      const deps = await morning(fault);
      const recipients = deps.mailer.sent.map((m) => m.to);
      expect(recipients.sort()).toEqual(Array.from({ length: 6 }, (_, i) => `reader${i}@example.com`).sort());
      const providers = rowsOf<{ provider: string; n: number }>(
        await deps.db.execute(
          sql`select provider, count(*)::int as n from story_summaries group by provider`,
        ),
      );
      expect(providers.map((p) => p.provider)).toEqual(["extractive"]);
      const calls = rowsOf<{ outcome: string; n: number }>(
        await deps.db.execute(sql`select outcome, count(*)::int as n from llm_calls group by outcome`),
      );
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((c) => c.outcome !== "ok")).toBe(true);
    }, 180_000);
  },
);
