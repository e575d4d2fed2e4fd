import { eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testArticle } from "../../../test/articles.ts";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import { type FakeOpenAi, startFakeOpenAi } from "../../../test/openai-server.ts";
import type { DbHandle } from "../../db/client.ts";
import { articles, llmCalls } from "../../db/schema/index.ts";
import { createOpenAiClient } from "../../integrations/llm/openai-client.ts";
import { storeArticles } from "../articles/index.ts";
import { StoryClusterer } from "./clustering.ts";
import { clusterArticles } from "./stories.service.ts";

let db: DbHandle;
let fake: FakeOpenAi;
let deps: Awaited<ReturnType<typeof createTestDeps>>;

// The fake model places each text by the event it names: what a real model does for reports of one event.
const TOPICS = [["dockers", "walkout"], ["nimbara"], ["ecb"]];
function topicVector(text: string): number[] {
  const v = TOPICS.map((words) => (words.some((w) => text.toLowerCase().includes(w)) ? 1 : 0.05));
  return [...v, 0.1];
}

const article = (url: string, title: string, body: string) =>
  testArticle(url, title, body, { now: "2026-11-27T06:00:00Z" });

beforeAll(async () => {
  db = await createTestDb();
  fake = await startFakeOpenAi();
  fake.embeddings = (texts) => ({ status: 200, vectors: texts.map(topicVector) });
  const llm = createOpenAiClient({
    apiKey: "test-key",
    baseURL: fake.baseURL,
    model: "fake-chat",
    embeddingModel: "fake-embed",
    maxRetries: 0,
  });
  deps = await createTestDeps(db, { llm, now: "2026-11-27T06:00:00Z" });
});
afterAll(async () => {
  await fake.close();
  await db.close();
});

describe("clustering with embeddings (an OpenAI-compatible endpoint configured)", () => {
  it("embeds new articles through the openai SDK and groups by embedding similarity", async () => {
    // Lexically far apart, semantically the same event: only the embeddings can join them.
    await storeArticles(deps, null, [
      article(
        "https://a.example/1",
        "Rotterdam dockers down tools",
        "Cranes stood idle on Thursday as unions protested automation plans at the quays.",
      ),
      article(
        "https://b.example/2",
        "Freight quotes jump as dock walkout begins",
        "Forwarders said container prices rose sharply for shippers booking this week.",
      ),
      article(
        "https://c.example/3",
        "Nimbara identity service fails in Frankfurt",
        "Customers could not log in to their own applications for several hours.",
      ),
    ]);
    const r = await clusterArticles(deps);
    expect(r).toMatchObject({ assigned: 3, created: 2 });
    expect(fake.requests.filter((q) => q.path === "/embeddings")).toHaveLength(1);
    expect(fake.requests[0]!.body.model).toBe("fake-embed");
    const rows = await deps.db.select().from(articles);
    expect(rows.every((a) => Array.isArray(a.embedding))).toBe(true);
    const [a1, a2, a3] = ["https://a.example/1", "https://b.example/2", "https://c.example/3"].map(
      (u) => rows.find((x) => x.url === u)!.storyId,
    );
    expect(a1).toBe(a2);
    expect(a3).not.toBe(a1);
    // Lexically the two Rotterdam reports stay apart: the embeddings made the difference.
    const lexical = new StoryClusterer([], []);
    const docs = rows.map((a) => ({ ...a, embedding: null }));
    const placed = docs.map((d) => lexical.assign(d).story);
    expect(new Set(placed).size).toBe(3);
    const calls = await deps.db.select().from(llmCalls).where(eq(llmCalls.purpose, "embed"));
    expect(calls[0]).toMatchObject({ outcome: "ok", model: "fake-embed" });
    expect(calls[0]!.tokensIn).toBeGreaterThan(0);
  });

  it("falls back to lexical clustering when the model fails, and records the failure", async () => {
    fake.embeddings = () => ({ status: 500 });
    await storeArticles(deps, null, [
      article(
        "https://d.example/4",
        "ECB holds deposit rate at 2 percent, signals cuts",
        "The European Central Bank held its deposit rate at 2 percent and signalled cuts, sending Bund yields lower.",
      ),
    ]);
    const r = await clusterArticles(deps);
    expect(r.assigned).toBe(1);
    expect(await deps.db.select().from(articles).where(isNull(articles.storyId))).toHaveLength(0);
    const failures = await deps.db.select().from(llmCalls).where(eq(llmCalls.outcome, "error"));
    expect(failures).toHaveLength(1);
  });
});
