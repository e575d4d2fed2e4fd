import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDeps } from "../../../test/deps.ts";
import {
  type ChatMessage,
  type FakeOpenAi,
  groundedSummary,
  startFakeOpenAi,
} from "../../../test/openai-server.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import type { DbHandle } from "../../db/client.ts";
import { briefingItems, briefings, llmCalls, storyInsights } from "../../db/schema/index.ts";
import { createOpenAiClient } from "../../integrations/llm/openai-client.ts";
import { generateBriefings, getBriefingForDate } from "../briefings/index.ts";
import { createSubscriber } from "../profiles/index.ts";
import { offBrief, whyItMattersOffline } from "./why-it-matters.ts";

const WHY = "It changes the costs and risks a finance team plans around this quarter.";
let db: DbHandle;
let fake: FakeOpenAi;
let offline: Awaited<ReturnType<typeof createTestDeps>>;
let withModel: Awaited<ReturnType<typeof createTestDeps>>;
let whyText: string;

const isWhy = (m: ChatMessage[]) => m[0]!.content.includes("why a news story matters");
const profile = (email: string, role: string, industry: string) => ({
  email,
  role,
  industry,
  interests: ["shipping", "chips"],
  timezone: "UTC",
  deliveryTime: "07:00",
  briefingLength: 3,
});

beforeAll(async () => {
  ({ db, deps: offline } = await withSampleNews());
  fake = await startFakeOpenAi();
  fake.chat = (m) => (isWhy(m) ? { text: whyText } : groundedSummary(m));
  const llm = createOpenAiClient({ apiKey: "k", baseURL: fake.baseURL, model: "m", maxRetries: 0 });
  withModel = await createTestDeps(db, { llm, now: "2026-11-27T07:05:00Z" });
});
afterAll(async () => {
  await fake.close();
  await db.close();
});
beforeEach(async () => {
  await offline.db.delete(briefingItems);
  await offline.db.delete(briefings);
  await offline.db.delete(storyInsights);
  await offline.db.delete(llmCalls);
  fake.requests.length = 0;
  fake.fault = null;
  whyText = WHY;
});

describe("why it matters, by the model, per story and role × industry segment", () => {
  it("calls the model once per (story, segment): subscribers of a segment share it, and the next run reuses it", async () => {
    const a = (await createSubscriber(offline, profile("cfo1@example.com", "CFO", "Logistics"))).subscriber;
    const b = (await createSubscriber(offline, profile("cfo2@example.com", "cfo ", "logistics"))).subscriber;
    const c = (await createSubscriber(offline, profile("eng@example.com", "Engineer", "Semiconductors")))
      .subscriber;
    await generateBriefings(withModel, { subscriberIds: [a.id, b.id, c.id] });
    const ba = await getBriefingForDate(withModel, a.id, "2026-11-27");
    const bb = await getBriefingForDate(withModel, b.id, "2026-11-27");
    const bc = await getBriefingForDate(withModel, c.id, "2026-11-27");
    const pairs = new Set([
      ...[...ba.items, ...bb.items].map((i) => `${i.story.id}|cfo`),
      ...bc.items.map((i) => `${i.story.id}|eng`),
    ]);
    expect(fake.chatRequests()).toHaveLength(pairs.size);
    expect(ba.items.every((i) => i.story.whyItMatters === WHY)).toBe(true);
    expect(bb.items.every((i) => i.story.whyItMatters === WHY)).toBe(true);
    const insights = await offline.db.select().from(storyInsights);
    expect(insights).toHaveLength(pairs.size);
    expect(new Set(insights.map((i) => i.segment))).toEqual(
      new Set(["cfo | logistics", "engineer | semiconductors"]),
    );
    const calls = await offline.db.select().from(llmCalls).where(eq(llmCalls.purpose, "why_it_matters"));
    expect(calls.every((x) => x.outcome === "ok" && x.tokensIn > 0)).toBe(true);

    // Another run (briefings rebuilt) asks nothing new: the insights are stored.
    await offline.db.delete(briefingItems);
    await offline.db.delete(briefings);
    await generateBriefings(withModel, { subscriberIds: [a.id, b.id, c.id] });
    expect(fake.chatRequests()).toHaveLength(pairs.size);
  });

  it("refuses a model text with a figure the story does not give, and uses the offline text", async () => {
    whyText = "Freight costs for your firm could rise 73% by spring.";
    const s = (await createSubscriber(offline, profile("ops@example.com", "COO", "Retail"))).subscriber;
    await generateBriefings(withModel, { subscriberIds: [s.id] });
    const briefing = await getBriefingForDate(withModel, s.id, "2026-11-27");
    expect(briefing.items.length).toBeGreaterThan(0);
    for (const item of briefing.items) expect(item.story.whyItMatters).not.toContain("73%");
    const calls = await offline.db.select().from(llmCalls);
    expect(calls.every((x) => x.outcome === "rejected" && x.error?.includes("73"))).toBe(true);
    expect(await offline.db.select().from(storyInsights)).toHaveLength(0);
  });

  it("builds every briefing with the offline text when the model fails, after one failed call", async () => {
    fake.fault = "server_error";
    const s1 = (await createSubscriber(offline, profile("x1@example.com", "Lawyer", "Energy"))).subscriber;
    const s2 = (await createSubscriber(offline, profile("x2@example.com", "Banker", "Finance"))).subscriber;
    const r = await generateBriefings(withModel, { subscriberIds: [s1.id, s2.id] });
    expect(r.generated).toBe(2);
    expect(fake.chatRequests()).toHaveLength(1);
    const b1 = await getBriefingForDate(withModel, s1.id, "2026-11-27");
    expect(b1.items.every((i) => (i.story.whyItMatters ?? "").length > 10)).toBe(true);
  });
});

describe("offBrief", () => {
  const story =
    "Headline: Kelbridge smelter to close in March\n- About 400 workers will lose their jobs as electricity prices doubled.";
  it("writes the offline line in plain English: a or an, acronyms kept, one outlet not 'outlets'", () => {
    const ranked = (matched: { label: string; term: string; kind: "interest" }[], outlets: number) =>
      ({ matched, features: { outlets } }) as unknown as Parameters<typeof whyItMattersOffline>[0];
    expect(whyItMattersOffline(ranked([], 1), { role: "Analyst", industry: "Finance" })).toBe(
      "In today's news; worth knowing as an Analyst in finance even outside your usual beat.",
    );
    expect(whyItMattersOffline(ranked([], 4), { role: "User researcher", industry: "IT" })).toBe(
      "Widely covered today (4 outlets); worth knowing as a User researcher in IT even outside your usual beat.",
    );
    expect(
      whyItMattersOffline(ranked([{ label: "EU AI rules", term: "ai act", kind: "interest" }], 3), {
        role: "CFO",
        industry: "Banking",
      }),
    ).toMatch(/^It bears on EU AI rules.*, which shapes decisions for a CFO in banking\.$/);
    for (const [role, a] of [
      ["UX designer", "a"],
      ["EU policy analyst", "an"],
      ["US trade lawyer", "a"],
      ["MBA graduate", "an"],
      ["Economist", "an"],
      ["University researcher", "a"],
    ])
      expect(whyItMattersOffline(ranked([], 1), { role: role!, industry: "Law" })).toContain(
        ` as ${a} ${role} in`,
      );
  });

  it("passes a line about the reader's work", () => {
    expect(
      offBrief("For a plant controller, the closure shows how power prices can end a site's margins.", story),
    ).toEqual([]);
  });
  it("refuses the model's own instructions repeated back", () => {
    expect(
      offBrief(
        "You tell a professional, in one or two sentences, why a news story matters for their work.",
        story,
      ),
    ).toEqual(["repeats its instructions"]);
  });
  it("refuses another language than the story's", () => {
    expect(
      offBrief(
        "Pour un directeur financier, la fermeture de la fonderie montre que le prix de l'électricité peut détruire les marges de tout un site industriel.",
        story,
      ),
    ).toEqual(['written in "fr", not in the story\'s language']);
  });
});
