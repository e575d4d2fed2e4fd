import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../test/db.ts";
import { createTestDeps } from "../../test/deps.ts";
import type { DbHandle } from "../db/client.ts";
import { sampleFeedsDir } from "../deps.ts";
import { generateBriefings, getBriefingForDate } from "../modules/briefings/index.ts";
import { sendDueBriefings } from "../modules/delivery/index.ts";
import { createSubscriber } from "../modules/profiles/index.ts";
import { listStoriesWithSources } from "../modules/summaries/index.ts";
import { runIngest } from "./pipeline.ts";
import { seedSampleSources } from "./sample-data.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;

beforeAll(async () => {
  db = await createTestDb();
  deps = await createTestDeps(db, { now: "2026-11-27T07:05:00Z" });
  await seedSampleSources(deps, sampleFeedsDir);
});
afterAll(async () => {
  await db.close();
});

describe("the daily pipeline on the sample feeds", () => {
  it("ingests every sample feed and groups reports of one event from several outlets into one story", async () => {
    const r = await runIngest(deps);
    expect(r.failed).toBe(0);
    expect(r.articles).toBeGreaterThanOrEqual(20);
    const stories = await listStoriesWithSources(deps, new Date("2026-11-20T00:00:00Z"));
    const chips = stories.filter((s) => s.sources.some((x) => x.url.includes("china-ai-chips")));
    // The China AI-chip event is covered by all four outlets: one story, four sources.
    expect(chips).toHaveLength(1);
    expect(new Set(chips[0]!.sources.map((s) => new URL(s.url).hostname)).size).toBe(4);
    const multi = stories.filter((s) => new Set(s.sources.map((x) => x.outlet)).size >= 2);
    expect(multi.length).toBeGreaterThanOrEqual(5);
  });

  it("a second ingest of unchanged feeds adds no article and no story", async () => {
    const r = await runIngest(deps);
    expect(r.articles).toBe(0);
    expect(r.stories).toBe(0);
  });

  it("builds a briefing whose every key point cites a source of its own story", async () => {
    const { subscriber } = await createSubscriber(deps, {
      email: "ops@example.com",
      role: "Logistics manager",
      industry: "Shipping",
      interests: ["freight rates", "ports"],
      timezone: "Europe/Amsterdam",
      deliveryTime: "07:00",
    });
    const g = await generateBriefings(deps, { subscriberIds: [subscriber.id] });
    expect(g.generated).toBe(1);
    const briefing = await getBriefingForDate(deps, subscriber.id, "2026-11-27");
    expect(briefing.items.length).toBeGreaterThanOrEqual(3);
    for (const item of briefing.items) {
      const ns = new Set(item.story.sources.map((s) => s.n));
      expect(item.story.keyPoints.length).toBeGreaterThan(0);
      for (const kp of [...item.story.keyPoints, ...item.story.analysis]) {
        expect(kp.citations.length).toBeGreaterThan(0);
        for (const n of kp.citations) expect(ns.has(n)).toBe(true);
      }
      expect(item.reason.length).toBeGreaterThan(0);
    }
    // The logistics manager's first story is the port strike.
    expect(briefing.items[0]!.story.sources.some((s) => s.url.includes("strike"))).toBe(true);
    expect(briefing.alsoToday.length).toBeGreaterThan(0);
  });

  it("emails each due briefing once, with citation links to the articles", async () => {
    const first = await sendDueBriefings(deps);
    expect(first.sent).toBe(1);
    const again = await sendDueBriefings(deps);
    expect(again.sent).toBe(0);
    expect(deps.mailer.sent).toHaveLength(1);
    const mail = deps.mailer.sent[0]!;
    expect(mail.to).toBe("ops@example.com");
    const links = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&#x2F;/g, "/"));
    expect(links.some((l) => l.startsWith("https://") && l.includes(".example/2026/"))).toBe(true);
    expect(mail.text).toMatch(/\(\w+\.example\) https:\/\//);
  });
});
