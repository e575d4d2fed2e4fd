import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { createTestDeps } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { generateBriefings } from "../briefings/index.ts";
import { sendDueBriefings } from "../delivery/index.ts";
import { createSubscriber, getSubscriber } from "./index.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  ({ db, deps } = await withSampleNews());
  app = createApp(deps);
});
afterAll(async () => {
  await db.close();
});

async function mailFor(email: string) {
  const { subscriber } = await createSubscriber(deps, {
    email,
    role: "Analyst",
    industry: "Banking",
    timezone: "UTC",
    deliveryTime: "07:00",
  });
  await generateBriefings(deps, { subscriberIds: [subscriber.id] });
  await sendDueBriefings(deps, { subscriberIds: [subscriber.id] });
  return { subscriber, mail: deps.mailer.sent.find((m) => m.to === email)! };
}
const path = (url: string) => new URL(url).pathname;

describe("links in every email", () => {
  it("carries RFC 8058 one-click unsubscribe headers whose POST unsubscribes at once", async () => {
    const { subscriber, mail } = await mailFor("leave@example.com");
    expect(mail.headers!["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const [https, mailto] = mail.headers!["List-Unsubscribe"]!.split(", ");
    expect(mailto).toMatch(/^<mailto:unsubscribe@[\w.-]+\?subject=unsubscribe>$/);
    const url = https!.slice(1, -1);
    expect((await app.request(path(url))).status).toBe(200);
    const res = await app.request(path(url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    expect((await getSubscriber(deps, subscriber.id)).status).toBe("unsubscribed");
    expect(mail.text).toContain(url);
  });

  it("refuses a tampered token, and the preferences page saves changes for the next briefing", async () => {
    const { subscriber, mail } = await mailFor("prefs@example.com");
    const prefs = mail.text.match(/Manage preferences: (\S+)/)![1]!;
    const tampered = path(prefs).replace(/.$/, (ch) => (ch === "a" ? "b" : "a"));
    expect((await app.request(tampered)).status).toBe(404);
    expect((await app.request(path(prefs))).status).toBe(200);
    const save = await app.request(path(prefs), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        deliveryTime: "06:30",
        timezone: "Asia/Tokyo",
        briefingLength: "8",
        paused: "true",
      }).toString(),
    });
    expect(save.status).toBe(200);
    const after = await getSubscriber(deps, subscriber.id);
    expect(after).toMatchObject({
      deliveryTime: "06:30",
      timezone: "Asia/Tokyo",
      briefingLength: 8,
      status: "paused",
    });
    const bad = await app.request(path(prefs), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ timezone: "Nowhere/Land" }).toString(),
    });
    expect(bad.status).toBe(400);
  });
});
