import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { testArticle } from "../../../test/articles.ts";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import { type FakeOpenAi, startFakeOpenAi } from "../../../test/openai-server.ts";
import type { DbHandle } from "../../db/client.ts";
import { llmCalls, stories, storySummaries } from "../../db/schema/index.ts";
import { createOpenAiClient, type OpenAiOptions } from "../../integrations/llm/openai-client.ts";
import { articlesOfStories, storeArticles } from "../articles/index.ts";
import { clusterArticles } from "../stories/index.ts";
import { MODEL_RETRY_AFTER_MS, storiesToSummarize, summarizeStory } from "./summaries.service.ts";
import { verifySummary } from "./verify.ts";

let db: DbHandle;
let fake: FakeOpenAi;
let setup: Awaited<ReturnType<typeof createTestDeps>>;
let storyId: string;

const NOW = "2026-11-27T06:30:00Z";

beforeAll(async () => {
  db = await createTestDb();
  fake = await startFakeOpenAi();
  setup = await createTestDeps(db, { now: NOW });
  await storeArticles(setup, null, [
    testArticle(
      "https://harbour.example/strike",
      "Rotterdam dock workers strike over automation plans",
      "Dock workers in Rotterdam walked off the job on Thursday over plans to automate cranes at the container terminals. " +
        "The FNV union said 2,400 workers joined the strike at the port's largest terminals. " +
        "Port officials said ships were diverted to Antwerp while the cranes stood idle.",
      { outlet: "Harbour Times" },
    ),
    testArticle(
      "https://freight.example/rotterdam",
      "Rotterdam strike: automation dispute halts container cranes",
      "Container cranes at Rotterdam stood idle as dock workers struck over automation plans at the terminals. " +
        "Freight forwarders said shipping rates for boxes leaving Rotterdam rose 12 percent in a day. " +
        "The terminal operator said automation would not cost jobs before 2030.",
      { outlet: "Freight Weekly" },
    ),
  ]);
  await clusterArticles(setup);
  const [story] = await setup.db.select().from(stories);
  storyId = story!.id;
});
afterAll(async () => {
  await fake.close();
  await db.close();
});
beforeEach(async () => {
  await setup.db.delete(storySummaries);
  await setup.db.delete(llmCalls);
  fake.requests.length = 0;
  fake.fault = null;
  fake.faults = Number.POSITIVE_INFINITY;
});

async function depsWith(opts: Partial<OpenAiOptions> = {}) {
  const llm = createOpenAiClient({
    apiKey: "test-key",
    baseURL: fake.baseURL,
    model: "fake-chat",
    maxRetries: 1,
    timeoutMs: 2000,
    ...opts,
  });
  return { ...setup, llm };
}

async function summarize(opts: Partial<OpenAiOptions> = {}) {
  const deps = await depsWith(opts);
  const r = await summarizeStory(deps, storyId);
  const calls = await setup.db.select().from(llmCalls).orderBy(llmCalls.createdAt);
  return { summary: r.summary, calls };
}

function expectVerified(summary: Awaited<ReturnType<typeof summarize>>["summary"]) {
  const sources = summary.sources.map((s) => s.n);
  for (const item of [...summary.keyPoints, ...summary.analysis]) {
    expect(item.citations.length).toBeGreaterThan(0);
    for (const n of item.citations) expect(sources).toContain(n);
  }
  expect(summary.keyPoints.length).toBeGreaterThanOrEqual(2);
}

describe("LLM summaries through the openai SDK (local OpenAI-compatible server)", () => {
  it("stores a verified model summary with its model, prompt version and the tokens of the call", async () => {
    const { summary, calls } = await summarize();
    expect(summary).toMatchObject({ provider: "llm", model: "fake-chat", promptVersion: "summary-v2" });
    expect(summary.rejections).toEqual([]);
    expectVerified(summary);
    expect(summary.analysis.length).toBeGreaterThanOrEqual(3);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ purpose: "summary", outcome: "ok", storyId });
    expect(calls[0]!.tokensIn).toBeGreaterThan(0);
    expect(calls[0]!.tokensOut).toBeGreaterThan(0);
    // The prompt numbers the sources and carries no URL for the model to copy.
    const user = (fake.chatRequests()[0]!.body.messages as { content: string }[])[1]!.content;
    expect(user).toContain("[1] ");
    expect(user).toContain("[2] ");
    expect(user).not.toContain("https://");
  });

  it("waits out a 429's retry-after and then stores the verified summary", async () => {
    fake.fault = "rate_limited";
    fake.faults = 1;
    const { summary, calls } = await summarize();
    expect(summary.provider).toBe("llm");
    expect(fake.chatRequests()).toHaveLength(2);
    expect(calls.map((c) => c.outcome)).toEqual(["ok"]);
  });

  it("does not wait for a retry-after longer than it allows: extractive at once", async () => {
    fake.fault = "rate_limited";
    fake.retryAfter = "3600";
    const started = Date.now();
    const { summary, calls } = await summarize();
    fake.retryAfter = "1";
    expect(Date.now() - started).toBeLessThan(5000);
    expect(summary.provider).toBe("extractive");
    expect(fake.chatRequests()).toHaveLength(1);
    expect(calls[0]).toMatchObject({ outcome: "error" });
    expect(summary.rejections[0]).toMatchObject({ reason: "model_error" });
  });

  it("retries a 500 once and falls back to the extractive summary when it persists", async () => {
    fake.fault = "server_error";
    const { summary, calls } = await summarize();
    expect(fake.chatRequests()).toHaveLength(2);
    expect(summary.provider).toBe("extractive");
    expectVerified(summary);
    expect(calls.map((c) => c.outcome)).toEqual(["error"]);
    expect(calls[0]!.error).toContain("500");
  });

  it("summarizes again with the model once it answers, a summary written while it could not be reached", async () => {
    fake.fault = "server_error";
    const { summary: standIn } = await summarize();
    expect(standIn.provider).toBe("extractive");
    fake.fault = null;
    const deps = await depsWith();
    // Not at once: an outage is not retried story by story.
    expect((await summarizeStory(deps, storyId)).status).toBe("skipped");
    // Later, with the model still down, the stand-in is kept as it is: no new version per retry.
    fake.fault = "server_error";
    setup.clock.advance(MODEL_RETRY_AFTER_MS);
    try {
      expect(await summarizeStory(deps, storyId)).toMatchObject({
        status: "skipped",
        summary: { version: standIn.version },
      });
    } finally {
      setup.clock.set(NOW);
    }
    fake.fault = null;
    expect(await storiesToSummarize(deps, [])).toEqual([]);
    setup.clock.advance(MODEL_RETRY_AFTER_MS);
    try {
      expect(await storiesToSummarize(deps, [])).toEqual([storyId]);
      const again = await summarizeStory(deps, storyId);
      expect(again).toMatchObject({
        status: "created",
        summary: { provider: "llm", version: standIn.version + 1 },
      });
      expect(await storiesToSummarize(deps, [])).toEqual([]);
      // Drafts the model wrote and verification refused are final: no retry for those.
      await setup.db.delete(storySummaries);
      fake.fault = "unsupported";
      expect((await summarizeStory(deps, storyId)).summary.provider).toBe("extractive");
      setup.clock.advance(MODEL_RETRY_AFTER_MS);
      expect(await storiesToSummarize(deps, [])).toEqual([]);
    } finally {
      setup.clock.set(NOW);
    }
  });

  it("gives up on a model that hangs past the timeout and falls back", async () => {
    fake.fault = "hang";
    const { summary, calls } = await summarize({ timeoutMs: 300, maxRetries: 2 });
    expect(summary.provider).toBe("extractive");
    // A timeout is not retried: one wait of LLM_TIMEOUT_MS at most, then the fallback.
    expect(fake.chatRequests()).toHaveLength(1);
    expect(calls[0]).toMatchObject({ outcome: "error" });
    expect(calls[0]!.error).toMatch(/timed out/);
  });

  it("asks again after malformed JSON, and keeps the second, verified answer", async () => {
    fake.fault = "malformed";
    fake.faults = 1;
    const { summary, calls } = await summarize();
    expect(summary.provider).toBe("llm");
    expect(summary.rejections.map((r) => r.reason)).toEqual(["malformed_json"]);
    expect(calls.map((c) => c.outcome).sort()).toEqual(["ok", "rejected"]);
    // The problem is fed back to the model.
    const retry = (fake.chatRequests()[1]!.body.messages as { content: string }[])[1]!.content;
    expect(retry).toContain("rejected");
  });

  it("refuses a citation to a source the story does not have, and stores the corrected retry", async () => {
    fake.fault = "bad_citation";
    fake.faults = 1;
    const { summary, calls } = await summarize();
    expect(summary.provider).toBe("llm");
    expect(summary.rejections[0]).toMatchObject({ reason: "invalid_citation" });
    expectVerified(summary);
    const rejected = calls.find((c) => c.outcome === "rejected")!;
    expect(rejected.error).toContain("[99] is not a source");
    const retry = (fake.chatRequests()[1]!.body.messages as { content: string }[])[1]!.content;
    expect(retry).toContain("[99] is not a source of this story");
  });

  it("falls back to extractive when the model keeps making a claim its sources do not support", async () => {
    fake.fault = "unsupported";
    const { summary, calls } = await summarize();
    expect(fake.chatRequests()).toHaveLength(2);
    expect(summary.provider).toBe("extractive");
    expect(summary.rejections.some((r) => r.reason === "unsupported")).toBe(true);
    expect(calls.map((c) => c.outcome)).toEqual(["rejected", "rejected"]);
    expect(JSON.stringify([summary.keyPoints, summary.analysis])).not.toContain("comet");
  });

  it("refuses a figure no source contains", async () => {
    fake.fault = "unknown_number";
    const { summary } = await summarize();
    expect(summary.provider).toBe("extractive");
    expect(summary.rejections.some((r) => r.reason === "unknown_number" && r.detail.includes("73"))).toBe(
      true,
    );
    expect(JSON.stringify(summary.keyPoints)).not.toContain("73%");
  });

  it("stops calling a failing model once the circuit opens: straight to the fallback", async () => {
    fake.fault = "server_error";
    const deps = await depsWith({ maxRetries: 0, breakerThreshold: 2, breakerCooldownMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      await setup.db.delete(storySummaries);
      await summarizeStory(deps, storyId);
    }
    expect(fake.chatRequests()).toHaveLength(2);
    const [latest] = await setup.db.select().from(storySummaries).where(eq(storySummaries.storyId, storyId));
    expect(latest).toMatchObject({ provider: "extractive" });
    expect(latest!.rejections).toEqual([{ reason: "circuit_open", detail: "the model was not called" }]);
  });

  it("stops calling once the day's token budget is spent", async () => {
    const deps = await depsWith({ dailyTokenBudget: 10 });
    await summarizeStory(deps, storyId);
    await setup.db.delete(storySummaries);
    const r = await summarizeStory(deps, storyId);
    expect(fake.chatRequests()).toHaveLength(1);
    expect(r.summary.provider).toBe("extractive");
    expect(r.summary.rejections[0]).toMatchObject({ reason: "budget_exhausted" });
  });

  it("the extractive fallback passes its own verification", async () => {
    const { summary } = await summarize({ apiKey: "x", baseURL: "http://127.0.0.1:1/v1", maxRetries: 0 });
    expect(summary.provider).toBe("extractive");
    const arts = await articlesOfStories(setup, [storyId]);
    const byId = new Map(arts.map((a) => [a.id, a]));
    const v = verifySummary(
      summary,
      summary.sources.map((s) => ({ n: s.n, title: s.title, content: byId.get(s.articleId)!.content })),
    );
    expect(v.problems).toEqual([]);
    expect(v.supported).toBe(v.sentences);
    expectVerified(summary);
  });
});

describe("verifySummary", () => {
  const sources = [
    {
      n: 1,
      title: "Rotterdam dock workers strike",
      content:
        "Dock workers in Rotterdam walked off the job on Thursday over automation plans. The FNV union said 2,400 workers joined. " +
        'A union leader said "we will not be replaced by machines" outside the terminal.',
    },
    {
      n: 2,
      title: "Rates rise",
      content: "Shipping rates for boxes leaving Rotterdam rose 12 percent in a day.",
    },
  ];
  const good = {
    headline: "Rotterdam dock workers strike",
    keyPoints: [
      { text: "Dock workers in Rotterdam walked off the job over automation plans.", citations: [1] },
      { text: "Shipping rates leaving Rotterdam rose 12 percent.", citations: [2] },
    ],
    analysis: [
      {
        text: 'The FNV union said 2,400 workers joined, saying "we will not be replaced by machines".',
        citations: [1],
      },
    ],
  };

  it("accepts sentences, figures, names and quotes found in what they cite", () => {
    const v = verifySummary(good, sources);
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({
      ok: true,
      sentences: 3,
      supported: 3,
      items: 3,
      citedItems: 3,
      citations: 3,
      validCitations: 3,
    });
  });

  it("refuses a claim supported by a source it does not cite", () => {
    const v = verifySummary(
      { ...good, keyPoints: [{ text: good.keyPoints[1]!.text, citations: [1] }] },
      sources,
    );
    expect(v.problems.map((p) => p.reason)).toContain("unsupported");
  });

  it("refuses items without citations and citations to unknown sources", () => {
    const v = verifySummary(
      {
        ...good,
        keyPoints: [
          { text: good.keyPoints[0]!.text, citations: [] },
          { text: good.keyPoints[1]!.text, citations: [2, 7] },
        ],
      },
      sources,
    );
    expect(v.problems.map((p) => p.reason).sort()).toEqual(["invalid_citation", "missing_citation"]);
    expect(v.validCitations).toBe(2);
    expect(v.citedItems).toBe(good.analysis.length + 1);
  });

  it("refuses a content-word salad drawn from all over an article but stated nowhere", () => {
    const v = verifySummary(
      {
        ...good,
        analysis: [
          { text: "Rotterdam dock workers replaced typewriters with computers in offices.", citations: [1] },
        ],
      },
      [
        {
          n: 1,
          title: "Port news",
          content:
            "Dock workers in Rotterdam walked off the job over automation plans. The weather was mild. " +
            "Lunch menus changed downtown. Trams ran late again. A bridge was repainted green. " +
            "Typewriters were replaced by computers decades ago in offices.",
        },
      ],
    );
    expect(v.ok).toBe(false);
  });

  it("refuses figures, names and quotes absent from the cited sources", () => {
    const v = verifySummary(
      {
        ...good,
        analysis: [
          {
            text: 'Dock workers in Rotterdam walked off the job, Minister Janssen said, calling it "a dark day for trade" as 3,100 joined.',
            citations: [1],
          },
        ],
      },
      sources,
    );
    const reasons = v.problems.map((p) => p.reason);
    expect(reasons).toContain("unknown_number");
    expect(reasons).toContain("unknown_name");
    expect(reasons).toContain("unknown_quote");
  });
});
