import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  hasChromium,
  launchBrowser,
  openPage,
  overflowsHorizontally,
  screenshot,
  VIEWPORTS,
} from "../../../test/browser.ts";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { groupAndSummarize } from "../../jobs/pipeline.ts";
import { submitArticle } from "../articles/index.ts";
import { createSubscriber } from "../profiles/index.ts";
import { createShare, revokeShare } from "./index.ts";

// Entity-escaped in the feed, so the stored headline and text literally hold the markup.
const XSS = `&lt;script&gt;alert("x")&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`;

let db: DbHandle;
let server: ReturnType<typeof serve>;
let browser: Browser;
let base = "";
let liveToken = "";
let goneToken = "";
let headline = "";
let firstKeyPoint = "";

describe.skipIf(!hasChromium)("the shared story page in Chromium", () => {
  beforeAll(async () => {
    let handler: (r: Request) => Response | Promise<Response> = () =>
      new Response("starting", { status: 503 });
    server = serve({ fetch: (r) => handler(r), port: 0, hostname: "127.0.0.1" });
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    db = await createTestDb();
    const deps = await createTestDeps(db, { env: { PUBLIC_BASE_URL: base } });
    const app = createApp(deps);
    handler = (r) => app.fetch(r);
    await submitArticle(deps, {
      url: "https://hostile.example/story",
      title: `Port of Valmora reopens after a cyberattack ${XSS}`,
      text:
        `The Port of Valmora reopened on Friday after a three-day closure caused by a cyberattack ${XSS} on its booking systems, ` +
        "the port authority said. Shipping lines said the backlog of containers would take a week to clear, and " +
        "forwarders warned of higher storage charges for importers. The authority said no cargo data had been lost.",
    });
    const storyId = (await groupAndSummarize(deps)).storyIds[0]!;
    const { subscriber } = await createSubscriber(deps, {
      email: "private.sharer@example.com",
      name: "Private Sharer",
      role: "Analyst",
      industry: "Shipping",
      timezone: "UTC",
      deliveryTime: "07:00",
    });
    liveToken = (await createShare(deps, subscriber.id, storyId)).token;
    goneToken = (await createShare(deps, subscriber.id, storyId)).token;
    await revokeShare(deps, subscriber.id, goneToken);
    const { latestSummaries } = await import("../summaries/index.ts");
    const summary = (await latestSummaries(deps, [storyId])).get(storyId)!;
    headline = summary.headline;
    firstKeyPoint = summary.keyPoints[0]!.text;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await db?.close();
  });

  for (const viewport of Object.keys(VIEWPORTS) as (keyof typeof VIEWPORTS)[]) {
    it(`shows the story, its sources and the invitation on a ${viewport}, inert to the XSS payload`, async () => {
      const { page, context, outsideRequests, consoleErrors, dialogs } = await openPage(browser, viewport);
      const res = await page.goto(`${base}/s/${liveToken}`);
      expect(res!.status()).toBe(200);
      await screenshot(page, `share-page-${viewport}`);
      // The payload is shown as text and never runs.
      expect(await page.locator("h1").textContent()).toBe(headline);
      expect(headline).toContain('<script>alert("x")</script>');
      expect(await page.locator("main script, main img").count()).toBe(0);
      expect(dialogs).toEqual([]);
      expect(await page.getByText("Shared from Daybreak").count()).toBe(1);
      const cta = page.getByRole("link", { name: "Get your own daily briefing" });
      expect(await cta.getAttribute("href")).toBe(`${base}/signup`);
      expect(await page.locator('a[href="https://hostile.example/story"]').count()).toBeGreaterThan(0);
      expect(await page.content()).not.toMatch(/Private Sharer|private\.sharer@example\.com/);
      expect(outsideRequests).toEqual([]);
      expect(consoleErrors).toEqual([]);
      if (viewport === "phone") expect(await overflowsHorizontally(page)).toBe(false);
      // The invitation leads to the sign-up form.
      await cta.click();
      await page.waitForURL(`${base}/signup`);
      expect(await page.locator("h1").textContent()).toBe("Get your own daily briefing");
      await context.close();
    });
  }

  it("carries link-preview meta: Open Graph and Twitter card with the headline and first key point", async () => {
    const { page, context } = await openPage(browser, "desktop");
    await page.goto(`${base}/s/${liveToken}`);
    const meta = (sel: string) => page.locator(sel).getAttribute("content");
    expect(await meta('meta[property="og:title"]')).toBe(headline);
    expect(await meta('meta[property="og:description"]')).toBe(firstKeyPoint);
    expect(await meta('meta[property="og:url"]')).toBe(`${base}/s/${liveToken}`);
    expect(await meta('meta[name="twitter:card"]')).toBe("summary");
    expect(await meta('meta[name="twitter:title"]')).toBe(headline);
    expect(await page.title()).toBe(`${headline} · Daybreak`);
    await context.close();
  });

  it("reads the same with JavaScript turned off", async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.phone, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/s/${liveToken}`);
    expect(await page.locator("h1").textContent()).toBe(headline);
    expect(await page.locator("li").count()).toBeGreaterThan(0);
    expect(await page.getByRole("link", { name: "Get your own daily briefing" }).isVisible()).toBe(true);
    await screenshot(page, "share-page-no-js");
    await context.close();
  });

  for (const viewport of Object.keys(VIEWPORTS) as (keyof typeof VIEWPORTS)[]) {
    it(`answers a revoked link with a friendly 410 page on a ${viewport}`, async () => {
      const { page, context, outsideRequests, consoleErrors } = await openPage(browser, viewport);
      const res = await page.goto(`${base}/s/${goneToken}`);
      expect(res!.status()).toBe(410);
      await screenshot(page, `share-gone-${viewport}`);
      expect(await page.locator("h1").textContent()).toBe("This shared story is no longer available");
      expect(await page.getByRole("link", { name: "Get your own daily briefing" }).count()).toBe(1);
      expect(await page.content()).not.toContain(headline);
      expect(outsideRequests).toEqual([]);
      // The page's own 410 is reported as a failed load; nothing else may be.
      expect(consoleErrors.filter((e) => !e.includes("status of 410"))).toEqual([]);
      if (viewport === "phone") expect(await overflowsHorizontally(page)).toBe(false);
      await context.close();
    });
  }
});
