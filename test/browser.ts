import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

/**
 * Headless Debian Chromium driven by playwright-core, for tests of the pages and emails readers
 * see. Test tools cannot download browsers here, so the system binary is used; where it is not
 * installed (a laptop without `apt-get install chromium`), browser tests skip and say so.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM_PATH);

/** Screenshots are kept here after a run (CI artifacts; ignored by git). */
export const SCREENSHOT_DIR = join(process.cwd(), "artifacts", "screenshots");

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 900 },
} as const;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/**
 * Opens a page that records every request leaving 127.0.0.1 (a page must make no third-party
 * requests) and every console error, so a test can assert both are empty.
 */
export async function openPage(browser: Browser, viewport: keyof typeof VIEWPORTS = "desktop") {
  const context = await browser.newContext({ viewport: VIEWPORTS[viewport], javaScriptEnabled: true });
  const page = await context.newPage();
  const outsideRequests: string[] = [];
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (!["127.0.0.1", "localhost"].includes(url.hostname) && !["data:", "about:"].includes(url.protocol))
      outsideRequests.push(req.url());
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  // An XSS payload that runs usually calls alert(): record it and keep going.
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, context, outsideRequests, consoleErrors, dialogs };
}

/** A full-page screenshot under artifacts/screenshots/<name>-<viewport>.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const size = page.viewportSize();
  const path = join(SCREENSHOT_DIR, `${name}-${size ? `${size.width}w` : "page"}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The page's content is wider than its viewport (horizontal scrolling on a phone). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  // Runs in the page; tsconfig has no DOM lib, so the globals are reached through globalThis.
  return page.evaluate(() => {
    const g = globalThis as unknown as {
      document: { documentElement: { scrollWidth: number } };
      innerWidth: number;
    };
    return g.document.documentElement.scrollWidth > g.innerWidth + 1;
  });
}
