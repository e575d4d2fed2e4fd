import { count, eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  hasChromium,
  launchBrowser,
  openPage,
  overflowsHorizontally,
  screenshot,
} from "../../../test/browser.ts";
import type { createTestDeps } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { feedback, shareLinks } from "../../db/schema/index.ts";
import { generateBriefings, getBriefingForDate } from "../briefings/index.ts";
import { sendDueBriefings } from "../delivery/index.ts";
import { createSubscriber, getSubscriber, type Subscriber, storyLinkSigner } from "../profiles/index.ts";
import { revokeShare } from "../sharing/index.ts";

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

const DATE = "2026-11-27";
const profile = (email: string) => ({
  email,
  role: "Portfolio manager",
  industry: "Asset management",
  interests: ["interest rates", "artificial intelligence"],
  timezone: "UTC",
  deliveryTime: "07:00",
  briefingLength: 3,
});

/** A subscriber who has today's email; its per-story links as parsed from the text part. */
async function mailed(email: string) {
  const { subscriber } = await createSubscriber(deps, profile(email));
  await generateBriefings(deps, { subscriberIds: [subscriber.id], date: DATE });
  await sendDueBriefings(deps, { subscriberIds: [subscriber.id] });
  const mail = deps.mailer.sent.find((m) => m.to === email)!;
  const briefing = await getBriefingForDate(deps, subscriber.id, DATE);
  const stories = mail.text.split(/\n(?=\d+\. )/).slice(1);
  const links = stories.map((block) => {
    const url = (label: string) => new URL(block.match(new RegExp(`${label}: (\\S+)`))![1]!).pathname;
    return {
      read: url("Read in Daybreak"),
      share: url("Share"),
      up: url("Useful"),
      down: url("Not useful"),
      more: url("More like this"),
      less: url("Less like this"),
      hide: url("Hide [^:]+"),
    };
  });
  expect(links).toHaveLength(briefing.items.length);
  return { subscriber, briefing, links };
}

const post = (path: string) => app.request(path, { method: "POST" });

/** Everything a link could change, to show that opening links changes none of it. */
async function state(s: Subscriber) {
  const now = await getSubscriber(deps, s.id);
  const [fb] = await deps.db.select({ n: count() }).from(feedback).where(eq(feedback.subscriberId, s.id));
  const [sh] = await deps.db.select({ n: count() }).from(shareLinks).where(eq(shareLinks.subscriberId, s.id));
  return {
    weights: now.preferenceWeights,
    muted: now.mutedSources,
    updatedAt: now.updatedAt,
    feedback: fb!.n,
    shares: sh!.n,
  };
}

describe("per-story links in the briefing email", () => {
  it("GET on every link shows a page and changes nothing: no vote, no share, no profile change", async () => {
    const { subscriber, links } = await mailed("scanner@example.com");
    const before = await state(subscriber);
    for (const l of links) {
      for (const path of Object.values(l)) {
        const res = await app.request(path);
        expect(res.status, path).toBe(200);
        expect(res.headers.get("content-type")).toMatch(/^text\/html/);
        expect(res.headers.get("cache-control")).toBe("private, no-store");
        expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
      }
    }
    // A mail scanner also sends HEAD.
    expect((await app.request(links[0]!.up, { method: "HEAD" })).status).toBe(200);
    expect(await state(subscriber)).toEqual(before);
  });

  it("the read link shows the story with this subscriber's 'why it matters', share and feedback buttons", async () => {
    const { briefing, links } = await mailed("reader@example.com");
    const item = briefing.items[0]!;
    const page = await (await app.request(links[0]!.read)).text();
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
    expect(page).toContain(esc(item.story.headline));
    if (item.story.whyItMatters) expect(page).toContain("Why it matters to you:");
    expect(page).toContain(`href="${item.story.sources[0]!.url}"`);
    expect(page.match(/<form method="post" action="\/(share|feedback)\/[\w.-]+"/g)).toHaveLength(6);
    expect(page).toMatch(/href="\/preferences\/[\w.-]+"/);
    expect(page).not.toMatch(/<script/);
  });

  it("a feedback link confirmed on its page records once and changes the next day's ranking", async () => {
    const { subscriber, briefing, links } = await mailed("feedback@example.com");
    const { subscriber: twin } = await createSubscriber(deps, profile("feedback-twin@example.com"));
    const top = briefing.items[0]!.story.id;

    const confirm = await (await app.request(links[0]!.less)).text();
    expect(confirm).toContain("Less like this</button>");
    expect(confirm).toContain(`action="${links[0]!.less}"`);
    const done = await post(links[0]!.less);
    expect(done.status).toBe(200);
    const page = await done.text();
    expect(page).toContain("You&#39;ll see less like this.");
    expect(page).toMatch(/href="\/preferences\/[\w.-]+"/);
    const once = await getSubscriber(deps, subscriber.id);
    expect(Object.values(once.preferenceWeights).some((w) => w < 0)).toBe(true);

    // The same link again (a reload, a double click) counts once.
    const again = await post(links[0]!.less);
    expect(await again.text()).toContain("it counts once");
    expect((await getSubscriber(deps, subscriber.id)).preferenceWeights).toEqual(once.preferenceWeights);
    await post(links[0]!.down);

    // Tomorrow the same stories are candidates; the twin without feedback keeps the old order.
    deps.clock.set("2026-11-28T07:05:00Z");
    const order = async (id: string) => {
      await generateBriefings(deps, { subscriberIds: [id], date: "2026-11-28" });
      const b = await getBriefingForDate(deps, id, "2026-11-28");
      const all = [...b.items.map((i) => i.story.id), ...b.alsoToday.map((a) => a.storyId)];
      return all.indexOf(top) === -1 ? Number.POSITIVE_INFINITY : all.indexOf(top);
    };
    expect(await order(subscriber.id)).toBeGreaterThan(await order(twin.id));
    deps.clock.set("2026-11-27T07:05:00Z");
  });

  it("'Hide <outlet>' mutes the story's lead outlet once confirmed", async () => {
    const { subscriber, briefing, links } = await mailed("hide@example.com");
    const lead = briefing.items[0]!.story.sources[0]!;
    expect(await (await app.request(links[0]!.hide)).text()).toContain(`Hide ${lead.outlet}</button>`);
    expect((await post(links[0]!.hide)).status).toBe(200);
    expect((await getSubscriber(deps, subscriber.id)).mutedSources).toEqual([lead.domain]);
  });

  it("the share link's button makes a public link and lands on /s/{token} showing the story", async () => {
    const { subscriber, briefing, links } = await mailed("sharer@example.com");
    expect(await (await app.request(links[1]!.share)).text()).toContain("Create the share link</button>");
    const res = await post(links[1]!.share);
    expect(res.status).toBe(303);
    const location = res.headers.get("location")!;
    expect(location).toMatch(/^\/s\/[\w-]{40,}$/);
    const shared = await app.request(location);
    expect(shared.status).toBe(200);
    const headline = briefing.items[1]!.story.headline.replace(/&/g, "&amp;").replace(/'/g, "&#39;");
    expect(await shared.text()).toContain(headline);
    const rows = await deps.db.select().from(shareLinks).where(eq(shareLinks.subscriberId, subscriber.id));
    expect(rows.map((r) => r.storyId)).toEqual([briefing.items[1]!.story.id]);
    // Pressed again: the same link while it lives, not one more; once revoked, a new one.
    const again = await post(links[1]!.share);
    expect(again.headers.get("location")).toBe(location);
    await revokeShare(deps, subscriber.id, location.split("/")[2]!);
    const fresh = await post(links[1]!.share);
    expect(fresh.headers.get("location")).not.toBe(location);
    expect(
      await deps.db.select().from(shareLinks).where(eq(shareLinks.subscriberId, subscriber.id)),
    ).toHaveLength(2);
  });

  it("refuses tampered tokens, another subscriber's or story's token, and a token used on another route", async () => {
    const a = await mailed("alice@example.com");
    const b = await mailed("bob@example.com");
    const before = await state(a.subscriber);
    const token = (path: string) => path.split("/")[2]!;
    const tampered = a.links[0]!.up.replace(/.$/, (ch) => (ch === "a" ? "b" : "a"));
    // Alice's subscriber part with Bob's story part and signature: neither's link.
    const spliced = `/feedback/${token(a.links[0]!.up).slice(0, 22)}${token(b.links[0]!.up).slice(22)}`;
    // Alice's link for story 1 with story 2's id.
    const otherStory = `/feedback/${token(a.links[0]!.up).slice(0, 22)}${token(a.links[1]!.up).slice(22, 44)}${token(a.links[0]!.up).slice(44)}`;
    const refused = [
      tampered,
      spliced,
      otherStory,
      `/feedback/${token(a.links[0]!.read)}`,
      `/share/${token(a.links[0]!.up)}`,
      `/read/${token(a.links[0]!.share)}`,
      "/feedback/not-a-token",
      "/read/%3Cscript%3E",
    ];
    for (const path of refused) {
      for (const method of path.startsWith("/read/") ? ["GET"] : ["GET", "POST"]) {
        const res = await app.request(path, { method });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.headers.get("content-type"), `${method} ${path}`).toMatch(/^text\/html/);
        expect(await res.text()).toContain("This link is not valid");
      }
    }
    expect(await state(a.subscriber)).toEqual(before);
  });

  it("a genuine link to a story that is gone answers the friendly 404", async () => {
    const { subscriber } = await mailed("gone@example.com");
    const sign = storyLinkSigner(deps.config.linkSecret, subscriber.id);
    const res = await app.request(`/read/${sign("00000000-0000-4000-8000-000000000000").read}`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("This link is not valid");
  });
});

describe("the OpenAPI document", () => {
  it("describes the email's story pages", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths["/read/{token}"]!)).toEqual(["get"]);
    expect(Object.keys(doc.paths["/feedback/{token}"]!).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/share/{token}"]!).sort()).toEqual(["get", "post"]);
  });
});

describe.skipIf(!hasChromium)("the pages in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("the read, feedback and share pages fit a phone in light and dark mode, with no script and no outside request", async () => {
    const { links } = await mailed("phone@example.com");
    const pages = {
      "email-read": await (await app.request(links[0]!.read)).text(),
      "email-feedback-confirm": await (await app.request(links[0]!.hide)).text(),
      "email-feedback-done": await (await post(links[0]!.more)).text(),
      "email-share-confirm": await (await app.request(links[0]!.share)).text(),
    };
    for (const [name, html] of Object.entries(pages)) {
      for (const scheme of ["light", "dark"] as const) {
        const { page, context, outsideRequests, consoleErrors } = await openPage(browser, "phone");
        await page.emulateMedia({ colorScheme: scheme });
        await page.setContent(html, { waitUntil: "load" });
        await screenshot(page, `${name}-${scheme}`);
        expect(await overflowsHorizontally(page), name).toBe(false);
        expect(outsideRequests, name).toEqual([]);
        expect(consoleErrors, name).toEqual([]);
        expect(await page.locator("script").count(), name).toBe(0);
        await context.close();
      }
    }
  });
});
