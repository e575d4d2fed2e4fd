import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { createTestDeps } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import type { DbHandle } from "../../db/client.ts";
import { deliveries } from "../../db/schema/index.ts";
import { generateBriefings } from "../briefings/index.ts";
import { createSubscriber } from "../profiles/index.ts";
import { sendDueBriefings } from "./delivery.service.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
beforeAll(async () => {
  ({ db, deps } = await withSampleNews());
});
afterAll(async () => {
  await db.close();
});

describe("delivery after a crash", () => {
  it("sends, once, a delivery a dead process claimed but never handed to the relay, with the same Message-ID", async () => {
    const { subscriber } = await createSubscriber(deps, {
      email: "crash@example.com",
      role: "Analyst",
      industry: "Banking",
      timezone: "UTC",
      deliveryTime: "07:00",
    });
    await generateBriefings(deps, { subscriberIds: [subscriber.id] });
    // A process claimed the delivery and died before handing it over: the row says rendered.
    await deps.db.insert(deliveries).values({
      subscriberId: subscriber.id,
      localDate: "2026-11-27",
      status: "rendered",
      attempts: 1,
      claimedAt: deps.clock.now(),
    });
    expect((await sendDueBriefings(deps, { subscriberIds: [subscriber.id] })).sent).toBe(0);

    deps.clock.advance(11 * 60_000);
    expect((await sendDueBriefings(deps, { subscriberIds: [subscriber.id] })).sent).toBe(1);
    expect((await sendDueBriefings(deps, { subscriberIds: [subscriber.id] })).sent).toBe(0);
    const mails = deps.mailer.sent.filter((m) => m.to === "crash@example.com");
    expect(mails).toHaveLength(1);
    const [row] = await deps.db.select().from(deliveries).where(eq(deliveries.subscriberId, subscriber.id));
    expect(row).toMatchObject({ status: "sent", attempts: 2 });
    expect(mails[0]!.messageId).toBe(`<${row!.id}@localhost>`);
  });
});
