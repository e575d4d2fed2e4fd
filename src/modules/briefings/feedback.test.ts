import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { createTestDeps } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import type { DbHandle } from "../../db/client.ts";
import { createSubscriber, getSubscriber } from "../profiles/index.ts";
import { generateBriefings, getBriefingForDate, recordFeedback } from "./briefings.service.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
beforeAll(async () => {
  ({ db, deps } = await withSampleNews());
});
afterAll(async () => {
  await db.close();
});

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
  await generateBriefings(deps, { subscriberIds: [subscriberId], date });
  const b = await getBriefingForDate(deps, subscriberId, date);
  return {
    items: b.items.map((i) => i.story.id),
    all: [...b.items.map((i) => i.story.id), ...b.alsoToday.map((a) => a.storyId)],
  };
}

describe("feedback", () => {
  it("'less like this' on today's top story moves that kind of story down the next day", async () => {
    const { subscriber } = await createSubscriber(deps, profile("pm@example.com"));
    const { subscriber: twin } = await createSubscriber(deps, profile("pm-twin@example.com"));
    const before = await ranks(subscriber.id, "2026-11-27");
    const top = before.items[0]!;
    await recordFeedback(deps, subscriber, top, "less");
    await recordFeedback(deps, subscriber, top, "down");
    const after = await getSubscriber(deps, subscriber.id);
    expect(Object.values(after.preferenceWeights).some((w) => w < 0)).toBe(true);

    // The next day the same stories are candidates; the twin without feedback keeps the old order.
    deps.clock.set("2026-11-28T07:05:00Z");
    const next = await ranks(after.id, "2027-01-01");
    const control = await ranks(twin.id, "2027-01-01");
    const position = (list: string[]) =>
      list.indexOf(top) === -1 ? Number.POSITIVE_INFINITY : list.indexOf(top);
    expect(position(next.all)).toBeGreaterThan(position(control.all));
  });

  it("'hide source' mutes the story's lead outlet for that reader", async () => {
    const { subscriber } = await createSubscriber(deps, profile("hide@example.com"));
    const { items } = await ranks(subscriber.id, "2026-11-27");
    await recordFeedback(deps, subscriber, items[0]!, "hide_source");
    const after = await getSubscriber(deps, subscriber.id);
    expect(after.mutedSources).toHaveLength(1);
    expect(after.mutedSources[0]).toMatch(/\.example$/);
  });
});
