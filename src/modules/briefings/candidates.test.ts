import { describe, expect, it } from "vitest";
import { useSampleNews } from "../../../test/sample-news.ts";
import { createSubscriber } from "../profiles/index.ts";
import { briefingKey, briefingViews, generateBriefings } from "./briefings.service.ts";

// The sample news is from 27 November; on 5 December nothing new has come in for a week.
const news = useSampleNews();

describe("briefing candidates", () => {
  it("falls back to the newest stories when the last day and a half brought too few", async () => {
    news.deps.clock.set("2026-12-05T07:05:00Z");
    const { subscriber } = await createSubscriber(news.deps, {
      email: "quiet-week@example.com",
      role: "Chief risk officer",
      industry: "Banking",
      timezone: "UTC",
      deliveryTime: "07:00",
      briefingLength: 5,
    });
    const r = await generateBriefings(news.deps, { subscriberIds: [subscriber.id], date: "2026-12-05" });
    expect(r.generated).toBe(1);
    const views = await briefingViews(news.deps, [{ subscriberId: subscriber.id, date: "2026-12-05" }]);
    const view = views.get(briefingKey(subscriber.id, "2026-12-05"));
    expect(view?.items.length).toBe(5);
    for (const item of view!.items) expect(item.story.sources.length).toBeGreaterThan(0);
  });
});
