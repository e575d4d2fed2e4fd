import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchBrowser, openPage, screenshot, VIEWPORTS } from "../test/browser.ts";
import { createTestDb } from "../test/db.ts";
import { createTestDeps } from "../test/deps.ts";
import { createApp } from "./app.ts";
import type { DbHandle } from "./db/client.ts";

let db: DbHandle;
let server: ReturnType<typeof serve>;
let browser: Browser;
let base = "";

describe.skipIf(!hasChromium)("the API documentation page in Chromium", () => {
  beforeAll(async () => {
    db = await createTestDb();
    const app = createApp(await createTestDeps(db));
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await db?.close();
  });

  it("lists every operation of /openapi.json and tries one out, with nothing from elsewhere", async () => {
    const { page, context, outsideRequests, consoleErrors } = await openPage(browser, "desktop");
    const res = await page.goto(`${base}/docs`);
    expect(res!.status()).toBe(200);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
    await page.locator(".opblock").first().waitFor();
    expect(await page.locator(".opblock").count()).toBe(operations);
    expect(await page.locator('.opblock-summary-path[data-path="/v1/briefings/today"]').count()).toBe(1);
    await screenshot(page, "api-docs");

    // "Try it out" on /healthz: the request goes to this server and its answer is shown.
    const health = page.locator("#operations-operations-get_healthz");
    await health.locator(".opblock-summary").click();
    await health.getByRole("button", { name: "Try it out" }).click();
    await health.getByRole("button", { name: "Execute" }).click();
    await expect
      .poll(() => health.locator(".live-responses-table tbody .response-col_status").first().textContent())
      .toContain("200");
    expect(outsideRequests).toEqual([]);
    // A Content-Security-Policy violation would show here.
    expect(consoleErrors).toEqual([]);
    await context.close();
  });

  it("shows the plain index of operations without JavaScript", async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.phone, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/docs`);
    const row = page.locator("main.index code", { hasText: "/v1/briefings/today" }).first();
    expect(await row.isVisible()).toBe(true);
    await context.close();
  });
});
