import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useSampleNews } from "../../../test/sample-news.ts";
import { deliveries } from "../../db/schema/index.ts";
import { generateBriefings } from "../briefings/index.ts";
import { createSubscriber } from "../profiles/index.ts";
import { sendDueBriefings } from "./delivery.service.ts";

const news = useSampleNews();

describe("delivery after a crash", () => {
  it("sends, once, a delivery a dead process claimed but never handed to the relay, with the same Message-ID", async () => {
    const { subscriber } = await createSubscriber(news.deps, {
      email: "crash@example.com",
      role: "Analyst",
      industry: "Banking",
      timezone: "UTC",
      deliveryTime: "07:00",
    });
    await generateBriefings(news.deps, { subscriberIds: [subscriber.id] });
    // A process claimed the delivery and died before handing it over: the row says rendered.
    await news.deps.db.insert(deliveries).values({
      subscriberId: subscriber.id,
      localDate: "2026-11-27",
      status: "rendered",
      attempts: 1,
      claimedAt: news.deps.clock.now(),
    });
    expect((await sendDueBriefings(news.deps, { subscriberIds: [subscriber.id] })).sent).toBe(0);

    news.deps.clock.advance(11 * 60_000);
    expect((await sendDueBriefings(news.deps, { subscriberIds: [subscriber.id] })).sent).toBe(1);
    expect((await sendDueBriefings(news.deps, { subscriberIds: [subscriber.id] })).sent).toBe(0);
    const mails = news.deps.mailer.sent.filter((m) => m.to === "crash@example.com");
    expect(mails).toHaveLength(1);
    const [row] = await news.deps.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.subscriberId, subscriber.id));
    expect(row).toMatchObject({ status: "sent", attempts: 2 });
    expect(mails[0]!.messageId).toBe(`<${row!.id}@localhost>`);
  });
});
