import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeOpenAi, startFakeOpenAi } from "../../../test/openai-server.ts";
import { createOpenAiClient } from "./openai-client.ts";

// The real openai SDK over HTTP to a local OpenAI-compatible server.
let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
  fake.chat = () => ({ text: "An answer." });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.fault = null;
  fake.faults = Number.POSITIVE_INFINITY;
  fake.retryAfter = "1";
});

const client = () =>
  createOpenAiClient({ apiKey: "test-key", baseURL: fake.baseURL, model: "fake-chat", timeoutMs: 30_000 });
const ask = {
  purpose: "question",
  system: "Answer in JSON.",
  user: "What happened at the port on Thursday?",
};

describe("the OpenAI-compatible client", () => {
  it("gives up within a call's deadline, retries and waits included", async () => {
    fake.fault = "hang";
    let started = Date.now();
    await expect(client().completeJson({ ...ask, deadlineMs: 400 })).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(2_000);
    // A Retry-After that would end past the deadline is not waited for.
    fake.fault = "rate_limited";
    fake.retryAfter = "3";
    started = Date.now();
    await expect(client().completeJson({ ...ask, deadlineMs: 1_000 })).rejects.toThrow(/rate limited/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("counts the tokens of an answer that reports no usage, by estimate", async () => {
    fake.fault = "no_usage";
    const r = await client().completeJson(ask);
    expect(r.json).toEqual({ text: "An answer." });
    expect(r.tokensIn).toBe(Math.ceil(ask.system.length / 4) + Math.ceil(ask.user.length / 4));
    expect(r.tokensOut).toBe(Math.ceil(r.content.length / 4));
  });
});
