import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useSampleNews } from "../../../test/sample-news.ts";
import { rowsOf } from "../../db/client.ts";
import { createSubscriber } from "../profiles/index.ts";
import { latestSummaries } from "../summaries/index.ts";
import { briefingViews, generateBriefings, getBriefingForDate } from "./briefings.service.ts";

const news = useSampleNews();

const profile = (i: number, role: string, industry: string) => ({
  email: `writer${i}@example.com`,
  role,
  industry,
  interests: ["interest rates", "semiconductors"],
  timezone: "UTC",
  deliveryTime: "07:00",
  briefingLength: 4,
});

describe("writing a batch of briefings", () => {
  it("stores every item and 'also today' entry with its own story, summary, texts and features", async () => {
    const ids: string[] = [];
    for (const [i, [role, industry]] of [
      ["Portfolio manager", "Asset management"],
      ["Supply chain director", "Semiconductors"],
      ["Chief risk officer", "Banking"],
    ].entries()) {
      ids.push((await createSubscriber(news.deps, profile(i, role!, industry!))).subscriber.id);
    }
    const r = await generateBriefings(news.deps, { subscriberIds: ids, date: "2026-11-27" });
    expect(r.generated).toBe(3);

    const items = rowsOf<{
      subscriber_id: string;
      rank: number;
      story_id: string;
      summary_id: string;
      score: number;
      reason: string;
      why_it_matters: string | null;
      features: Record<string, number>;
    }>(
      await news.deps.db.execute(sql`select b.subscriber_id, i.rank, i.story_id, i.summary_id, i.score, i.reason,
        i.why_it_matters, i.features
        from briefing_items i join briefings b on b.id = i.briefing_id order by b.subscriber_id, i.rank`),
    );
    const summaries = await latestSummaries(news.deps, [...new Set(items.map((i) => i.story_id))]);
    for (const id of ids) {
      const mine = items.filter((i) => i.subscriber_id === id);
      expect(mine.map((i) => i.rank)).toEqual([1, 2, 3, 4].slice(0, mine.length));
      expect(mine.length).toBeGreaterThan(0);
      expect(new Set(mine.map((i) => i.story_id)).size).toBe(mine.length);
    }
    for (const item of items) {
      // The summary shown is the story's own, and every text and feature came through whole.
      expect(summaries.get(item.story_id)?.id).toBe(item.summary_id);
      expect(item.reason).toMatch(/\d+ outlets?/);
      expect(item.why_it_matters?.length ?? 0).toBeGreaterThan(20);
      expect(Object.keys(item.features).sort()).toEqual(
        ["freshness", "importance", "outlets", "relevance", "updated"].sort(),
      );
      expect(item.features.outlets).toBeGreaterThanOrEqual(1);
      expect(item.score).toBeGreaterThan(0);
    }

    const views = await briefingViews(
      news.deps,
      ids.map((subscriberId) => ({ subscriberId, date: "2026-11-27" })),
    );
    expect(views.size).toBe(3);
    for (const view of views.values()) {
      expect(view.alsoToday.length).toBeGreaterThan(0);
      for (const a of view.alsoToday) {
        expect(a.headline).toBe(summaries.get(a.storyId)?.headline ?? (await headlineOf(a.storyId)));
        expect(typeof a.score).toBe("number");
        expect(view.items.some((i) => i.story.id === a.storyId)).toBe(false);
      }
      expect(view.items.every((i) => i.story.whyItMatters && i.story.keyPoints.length > 0)).toBe(true);
    }
  });
});

describe("what readers saw in the week before", () => {
  it("leaves out, per reader, the stories of their own previous seven days, and builds a date once", async () => {
    const storiesOf = async (subscriberId: string, date: string) =>
      rowsOf<{ story_id: string }>(
        await news.deps.db.execute(sql`select i.story_id from briefing_items i join briefings b on b.id = i.briefing_id
          where b.subscriber_id = ${subscriberId} and b.date = ${date}`),
      )
        .map((r) => r.story_id)
        .sort();
    const [weekAgo, yesterday] = [
      (await createSubscriber(news.deps, profile(10, "Economist", "Banking"))).subscriber.id,
      (await createSubscriber(news.deps, profile(11, "Economist", "Banking"))).subscriber.id,
    ];
    // The same profile: the same stories would be picked on any date but for what was shown.
    await generateBriefings(news.deps, { subscriberIds: [weekAgo], date: "2026-11-19" });
    await generateBriefings(news.deps, { subscriberIds: [yesterday], date: "2026-11-26" });
    const r = await generateBriefings(news.deps, { subscriberIds: [weekAgo, yesterday], date: "2026-11-27" });
    expect(r.generated).toBe(2);
    // Eight days back is outside the week: the same picks again.
    expect(await storiesOf(weekAgo, "2026-11-27")).toEqual(await storiesOf(weekAgo, "2026-11-19"));
    const before = new Set(await storiesOf(yesterday, "2026-11-26"));
    const today = await storiesOf(yesterday, "2026-11-27");
    expect(before.size).toBeGreaterThan(0);
    expect(today.length).toBeGreaterThan(0);
    expect(today.filter((id) => before.has(id))).toEqual([]);
    // Built already: left as it is.
    expect(
      await generateBriefings(news.deps, { subscriberIds: [weekAgo, yesterday], date: "2026-11-27" }),
    ).toMatchObject({ generated: 0, skipped: 2 });
  });
});

describe("a day with nothing new for a reader", () => {
  it("builds an empty briefing, not none, and replaces it once there is something to show", async () => {
    const reader = (
      await createSubscriber(news.deps, { ...profile(30, "Economist", "Banking"), briefingLength: 12 })
    ).subscriber.id;
    await generateBriefings(news.deps, { subscriberIds: [reader], date: "2026-11-26" });
    const seen = await getBriefingForDate(news.deps, reader, "2026-11-26");
    const stories = await news.deps.db.execute(sql`select count(*)::int as n from stories`);
    // Every story of the day was in yesterday's briefing (at most 12 picked, fewer stories here).
    expect(seen.items.length).toBe(rowsOf<{ n: number }>(stories)[0]!.n);
    const r = await generateBriefings(news.deps, { subscriberIds: [reader], date: "2026-11-27" });
    expect(r).toMatchObject({ generated: 1, skipped: 0 });
    const today = await getBriefingForDate(news.deps, reader, "2026-11-27");
    expect(today.items).toEqual([]);
    // Built again with nothing new: it stays (no new row). With something to show (here, the
    // stories are no longer in an earlier briefing), the empty one is replaced.
    expect(await generateBriefings(news.deps, { subscriberIds: [reader], date: "2026-11-27" })).toMatchObject(
      {
        generated: 0,
      },
    );
    await news.deps.db.execute(
      sql`delete from briefings where subscriber_id = ${reader} and date = '2026-11-26'`,
    );
    expect(await generateBriefings(news.deps, { subscriberIds: [reader], date: "2026-11-27" })).toMatchObject(
      {
        generated: 1,
      },
    );
    const replaced = await getBriefingForDate(news.deps, reader, "2026-11-27");
    expect(replaced.id).not.toBe(today.id);
    expect(replaced.items.length).toBe(seen.items.length);
    // With items, a briefing is left as it is.
    expect(await generateBriefings(news.deps, { subscriberIds: [reader], date: "2026-11-27" })).toMatchObject(
      {
        generated: 0,
        skipped: 1,
      },
    );
  });
});

describe("deleting", () => {
  it("a reader deletes their briefings and those briefings' items, and no one else's", async () => {
    const gone = (await createSubscriber(news.deps, profile(20, "Economist", "Banking"))).subscriber.id;
    const kept = (await createSubscriber(news.deps, profile(21, "Economist", "Banking"))).subscriber.id;
    await generateBriefings(news.deps, { subscriberIds: [gone, kept], date: "2026-11-27" });
    const itemsOf = async (id: string) =>
      rowsOf<{ n: number }>(
        await news.deps.db.execute(sql`select count(*)::int as n from briefing_items i
          join briefings b on b.id = i.briefing_id where b.subscriber_id = ${id}`),
      )[0]!.n;
    const keptItems = await itemsOf(kept);
    expect(await itemsOf(gone)).toBeGreaterThan(0);
    await news.deps.db.execute(sql`delete from subscribers where id = ${gone}`);
    const orphans = rowsOf<{ n: number }>(
      await news.deps.db.execute(sql`select count(*)::int as n from briefing_items i
        where not exists (select 1 from briefings b where b.id = i.briefing_id)`),
    )[0]!.n;
    expect(orphans).toBe(0);
    expect(await itemsOf(kept)).toBe(keptItems);
  });

  // Last in this file but one: it empties the briefings every test above wrote.
  it("briefings by TRUNCATE truncates their items too", async () => {
    await news.deps.db.execute(sql`truncate briefings, deliveries`);
    const [left] = rowsOf<{ n: number }>(
      await news.deps.db.execute(sql`select count(*)::int as n from briefing_items`),
    );
    expect(left?.n).toBe(0);
  });

  it("briefings and their items truncated in one statement", async () => {
    await generateBriefings(news.deps, { date: "2026-11-27" });
    const count = async (table: string) =>
      rowsOf<{ n: number }>(
        await news.deps.db.execute(sql.raw(`select count(*)::int as n from ${table}`)),
      )[0]!.n;
    expect(await count("briefing_items")).toBeGreaterThan(0);
    await news.deps.db.execute(sql`truncate deliveries, briefing_items, briefings`);
    expect(await count("briefings")).toBe(0);
    expect(await count("briefing_items")).toBe(0);
  });
});

async function headlineOf(storyId: string): Promise<string | undefined> {
  return (await latestSummaries(news.deps, [storyId])).get(storyId)?.headline;
}
