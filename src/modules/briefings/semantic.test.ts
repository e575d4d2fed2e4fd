import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import { type FakeOpenAi, startFakeOpenAi } from "../../../test/openai-server.ts";
import type { DbHandle } from "../../db/client.ts";
import { sampleFeedsDir } from "../../deps.ts";
import { createOpenAiClient } from "../../integrations/llm/openai-client.ts";
import { runIngest } from "../../jobs/pipeline.ts";
import { seedSampleSources } from "../../jobs/sample-data.ts";
import { createSubscriber, getSubscriber } from "../profiles/index.ts";
import { generateBriefings, getBriefingForDate } from "./briefings.service.ts";

// The fake model maps texts to topics by a few telling words, as a real model would by meaning.
const TOPICS = [
  ["dock", "strike", "seafaring"],
  ["huawei", "chip"],
  ["ecb", "bund"],
];
const embed = (text: string) => [
  ...TOPICS.map((ws) => (ws.some((w) => text.toLowerCase().includes(w)) ? 1 : 0)),
  0.2,
];

let db: DbHandle;
let fake: FakeOpenAi;
let withModel: Awaited<ReturnType<typeof createTestDeps>>;
beforeAll(async () => {
  db = await createTestDb();
  fake = await startFakeOpenAi();
  fake.embeddings = (texts) => ({ status: 200, vectors: texts.map(embed) });
  const llm = createOpenAiClient({
    apiKey: "k",
    baseURL: fake.baseURL,
    model: "m",
    embeddingModel: "e",
    maxRetries: 0,
  });
  withModel = await createTestDeps(db, { llm, now: "2026-11-27T07:05:00Z" });
  await seedSampleSources(withModel, sampleFeedsDir);
  await runIngest(withModel);
});
afterAll(async () => {
  await fake.close();
  await db.close();
});

describe("ranking with embeddings", () => {
  it("ranks a story first that matches the profile's meaning when its words do not", async () => {
    const profile = {
      role: "Analyst",
      industry: "Seafaring",
      interests: ["seafaring"],
      timezone: "UTC",
      deliveryTime: "07:00",
      briefingLength: 3,
    };
    const { subscriber } = await createSubscriber(withModel, { ...profile, email: "sea@example.com" });
    await generateBriefings(withModel, { subscriberIds: [subscriber.id] });
    const b = await getBriefingForDate(withModel, subscriber.id, "2026-11-27");
    expect(b.items[0]!.story.headline).toMatch(/strike|dock/i);
    expect(b.items[0]!.score).toBeGreaterThan(0);
    // Without the model, the same profile's words alone do not put that story first.
    const offline = await createTestDeps(db, { llm: null, now: "2026-11-27T07:05:00Z" });
    const { subscriber: twin } = await createSubscriber(offline, {
      ...profile,
      email: "sea-offline@example.com",
    });
    await generateBriefings(offline, { subscriberIds: [twin.id] });
    const control = await getBriefingForDate(offline, twin.id, "2026-11-27");
    expect(control.items[0]!.story.headline).not.toMatch(/strike|dock/i);
    // The profile's embedding is stored with the text it was made from, and reused next time.
    const stored = await getSubscriber(withModel, subscriber.id);
    expect(stored.profileEmbeddingText).toContain("Seafaring");
    const embedsOfProfile = () =>
      fake.requests.filter(
        (r) => r.path === "/embeddings" && (r.body.input as string[]).some((t) => t.includes("Seafaring")),
      ).length;
    const calls = embedsOfProfile();
    await generateBriefings(withModel, { subscriberIds: [subscriber.id], date: "2026-11-28" });
    expect(embedsOfProfile()).toBe(calls);
  });
});
