import { describe, expect, it } from "vitest";
import { useSampleNews } from "../../../test/sample-news.ts";
import { createSubscriber, getSubscriber } from "../profiles/index.ts";
import { generateBriefings, getBriefingForDate, recordFeedback } from "./briefings.service.ts";

const news = useSampleNews();

const profile = (email: string) => ({
  email,
  role: "Portfolio manager",
  industry: "Asset management",
  interests: ["interest rates", "artificial intelligence"],
  timezone: "UTC",
  deliveryTime: "07:00",
  briefingLength: 3,
});

async function ranks(subscriberId: string, date: string) {
  await generateBriefings(news.deps, { subscriberIds: [subscriberId], date });
  const b = await getBriefingForDate(news.deps, subscriberId, date);
  return {
    items: b.items.map((i) => i.story.id),
    all: [...b.items.map((i) => i.story.id), ...b.alsoToday.map((a) => a.storyId)],
  };
}

describe("feedback", () => {
  it("'less like this' on today's top story moves that kind of story down the next day", async () => {
    const { subscriber } = await createSubscriber(news.deps, profile("pm@example.com"));
    const { subscriber: twin } = await createSubscriber(news.deps, profile("pm-twin@example.com"));
    const before = await ranks(subscriber.id, "2026-11-27");
    const top = before.items[0]!;
    await recordFeedback(news.deps, subscriber, top, "less");
    await recordFeedback(news.deps, subscriber, top, "down");
    const after = await getSubscriber(news.deps, subscriber.id);
    expect(Object.values(after.preferenceWeights).some((w) => w < 0)).toBe(true);

    // The next day the same stories are candidates; the twin without feedback keeps the old order.
    news.deps.clock.set("2026-11-28T07:05:00Z");
    const next = await ranks(after.id, "2027-01-01");
    const control = await ranks(twin.id, "2027-01-01");
    const position = (list: string[]) =>
      list.indexOf(top) === -1 ? Number.POSITIVE_INFINITY : list.indexOf(top);
    expect(position(next.all)).toBeGreaterThan(position(control.all));
  });

  it("'hide source' mutes the story's lead outlet for that reader", async () => {
    const { subscriber } = await createSubscriber(news.deps, profile("hide@example.com"));
    const { items } = await ranks(subscriber.id, "2026-11-27");
    await recordFeedback(news.deps, subscriber, items[0]!, "hide_source");
    const after = await getSubscriber(news.deps, subscriber.id);
    expect(after.mutedSources).toHaveLength(1);
    expect(after.mutedSources[0]).toMatch(/\.example$/);
  });
});
