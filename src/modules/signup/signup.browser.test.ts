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
import type { createTestDeps } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { findSubscriberByEmail } from "../profiles/index.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;
let server: ReturnType<typeof serve>;
let browser: Browser;
let base = "";

describe.skipIf(!hasChromium)("sign-up in Chromium", () => {
  beforeAll(async () => {
    server = serve({ fetch: (r) => app.fetch(r), port: 0, hostname: "127.0.0.1" });
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({ db, deps } = await withSampleNews());
    // Links in the confirmation email point at this server.
    deps.config.publicBaseUrl = base;
    app = createApp(deps);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await db?.close();
  });
  for (const viewport of Object.keys(VIEWPORTS) as (keyof typeof VIEWPORTS)[]) {
    it(`fills the form, confirms by the emailed link and gets the first briefing on a ${viewport}`, async () => {
      const email = `browser.${viewport}@example.com`;
      const { page, context, outsideRequests, consoleErrors, dialogs } = await openPage(browser, viewport);
      await page.goto(`${base}/signup`);
      await screenshot(page, `signup-form-${viewport}`);
      if (viewport === "phone") expect(await overflowsHorizontally(page)).toBe(false);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Your role").fill("Supply chain director");
      await page.getByLabel("Your industry").fill("Semiconductors");
      await page.getByLabel("Topics you follow").fill("export controls, ports");
      await page.getByLabel("Time zone").fill("Europe/London");
      await page.getByRole("button", { name: "Send my confirmation email" }).click();
      await page.waitForLoadState();
      expect(await page.locator("h1").textContent()).toBe("Check your inbox");
      await screenshot(page, `signup-sent-${viewport}`);

      const mail = deps.mailer.sent.findLast((m) => m.to === email)!;
      const link = mail.text.match(/https?:\/\/\S+\/signup\/confirm\/[\w-]+/)![0];
      expect(link.startsWith(`${base}/signup/confirm/`)).toBe(true);
      await page.goto(link);
      expect(await page.locator("h1").textContent()).toBe("You're in");
      expect(await page.locator("main").textContent()).toContain("Your first briefing is ready");
      await screenshot(page, `signup-confirmed-${viewport}`);
      const subscriber = await findSubscriberByEmail(deps, email);
      expect(subscriber!.status).toBe("active");
      expect(subscriber!.timezone).toBe("Europe/London");
      expect(outsideRequests).toEqual([]);
      expect(consoleErrors).toEqual([]);
      expect(dialogs).toEqual([]);
      if (viewport === "phone") expect(await overflowsHorizontally(page)).toBe(false);
      await context.close();
    });
  }

  it("guesses the time zone from the browser, and leaves UTC, editable, without JavaScript", async () => {
    const withJs = await browser.newContext({ timezoneId: "America/Chicago" });
    const page = await withJs.newPage();
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(`${base}/signup`);
    expect(await page.getByLabel("Time zone").inputValue()).toBe("America/Chicago");
    expect(errors).toEqual([]); // the CSP let the hashed script run and nothing else was refused
    await withJs.close();
    const noJs = await browser.newContext({ timezoneId: "America/Chicago", javaScriptEnabled: false });
    const plain = await noJs.newPage();
    await plain.goto(`${base}/signup`);
    expect(await plain.getByLabel("Time zone").inputValue()).toBe("UTC");
    await noJs.close();
  });

  it("re-shows the form with each bad field named, keeping what was typed and not guessing over it", async () => {
    const { page, context } = await openPage(browser, "phone");
    await page.goto(`${base}/signup`);
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByLabel("Your role").fill("Analyst");
    await page.getByLabel("Your industry").fill("Energy");
    await page.getByLabel("Time zone").fill("Mars/Olympus");
    // The browser's own check for type=email would stop the submission: the server must judge.
    await page.locator("form").evaluate((f) => f.setAttribute("novalidate", ""));
    await page.getByRole("button", { name: "Send my confirmation email" }).click();
    await page.waitForLoadState();
    expect(await page.getByText("must be an email address").count()).toBe(1);
    expect(await page.getByText("must be an IANA time zone", { exact: false }).count()).toBe(1);
    expect(await page.getByLabel("Time zone").inputValue()).toBe("Mars/Olympus");
    expect(await page.getByLabel("Your role").inputValue()).toBe("Analyst");
    await screenshot(page, "signup-errors");
    expect(await overflowsHorizontally(page)).toBe(false);
    await context.close();
  });
});
