import { doIUseEmail } from "doiuse-email";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  hasChromium,
  launchBrowser,
  openPage,
  overflowsHorizontally,
  screenshot,
} from "../../../test/browser.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { generateBriefings, getBriefingForDate } from "../briefings/index.ts";
import { createSubscriber, linkToken } from "../profiles/index.ts";
import { briefingEmailModel, renderBriefingEmail } from "./briefing-email.ts";
import { emailLinks } from "./delivery.service.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof withSampleNews>>["deps"];
let emailHtml: string;
let preferencesHtml: string;
const templates: Record<string, string> = {};

beforeAll(async () => {
  ({ db, deps } = await withSampleNews());
  const { subscriber } = await createSubscriber(deps, {
    email: "render@example.com",
    name: "Ada Lovelace-Byron",
    role: "Chief risk officer",
    industry: "Banking",
    interests: ["interest rates", "credit markets"],
    timezone: "Europe/London",
    deliveryTime: "07:00",
  });
  await generateBriefings(deps, { subscriberIds: [subscriber.id] });
  const briefing = await getBriefingForDate(deps, subscriber.id, "2026-11-27");
  const model = briefingEmailModel(briefing, subscriber, emailLinks(deps.config, subscriber.id));
  emailHtml = renderBriefingEmail(await deps.templates.get("briefing"), model).html;
  for (const name of ["briefing", "confirm", "signin"])
    templates[name] = (await deps.templates.get(name)).html;
  templates.briefing = emailHtml;
  const token = linkToken(deps.config.linkSecret, "preferences", subscriber.id);
  preferencesHtml = await (await createApp(deps).request(`/preferences/${token}`)).text();
});
afterAll(async () => {
  await db.close();
});

/**
 * What caniemail reports for MJML's own output and for enhancements a client simply ignores.
 * Each entry names why it is harmless; anything else reported fails the test.
 */
const TOLERATED: Record<string, string> = {
  "@media":
    "MJML's responsive column widths and our prefers-color-scheme block: clients without @media keep the 600px single-column layout and the light colours, which is the design",
  "Chaining selectors": "MJML's `.moz-text-html .mj-column-per-100` rule for Thunderbird, ignored elsewhere",
  "Class selector": "Gmail mobile webmail drops <style>; every style that matters is inlined",
  "Descendant combinator": "as above (Gmail mobile webmail)",
  "ID selector": "MJML's `#outlook a` reset, as above",
  "Type selector": "MJML's body/table/img/p resets, as above",
  outline: "MJML's `img { outline:none }` reset; the emails have no images",
  "<body> element":
    "Outlook iOS/Android replace <body> with a <div>; the background is repeated on MJML's wrapper div",
  "display:none": "MJML's hidden preheader; Gmail mobile webmail shows no preheader",
  opacity: "the same hidden preheader",
  overflow: "the same hidden preheader",
  "aria-label attribute": "accessibility hint on MJML's wrapper tables, ignored by Windows Mail",
  "role attribute": "role=presentation on MJML's layout tables, ignored by Windows Mail",
  "word-break": "MJML's break-word on text cells; Windows Mail wraps long words its own way",
  "border-radius": "the confirm button's rounded corners are square in Outlook for Windows",
  "target attribute": "MJML's target=_blank on buttons; those clients open links in a new tab anyway",
};

function unsupported(html: string, clients: string[]) {
  const result = doIUseEmail(html, { emailClients: clients }) as { errors?: string[] };
  const features = new Map<string, Set<string>>();
  for (const e of result.errors ?? []) {
    const m = e.match(/^`(.+)` is not supported by `(.+)`$/);
    const [feature, client] = m ? [m[1]!, m[2]!] : [e, "?"];
    features.set(feature, (features.get(feature) ?? new Set()).add(client));
  }
  return features;
}

describe("email HTML against caniemail (doiuse-email)", () => {
  it("has no unsupported feature at all in Apple Mail", () => {
    for (const [name, html] of Object.entries(templates)) {
      expect([...unsupported(html, ["apple-mail.*"]).keys()], name).toEqual([]);
    }
  });

  it("uses nothing in Gmail or Outlook beyond MJML's own output and ignorable enhancements", () => {
    for (const [name, html] of Object.entries(templates)) {
      const features = unsupported(html, ["gmail.*", "outlook.*"]);
      const unexplained = [...features.keys()].filter((f) => !(f in TOLERATED));
      expect(unexplained, `${name}: ${unexplained.map((f) => `${f} (${[...features.get(f)!]})`)}`).toEqual(
        [],
      );
    }
  });

  it("links no web font, stylesheet or image from another host", () => {
    for (const [name, html] of Object.entries(templates)) {
      expect(html, name).not.toMatch(/<link\b|@import|<img\b[^>]*src="https?:/i);
    }
  });

  it("declares light and dark colour schemes", () => {
    expect(emailHtml).toContain('<meta name="color-scheme" content="light dark">');
    expect(emailHtml).toContain('<meta name="supported-color-schemes" content="light dark">');
    expect(emailHtml).toMatch(/@media \(prefers-color-scheme: dark\)/);
  });
});

type Rgb = [number, number, number];
function luminance([r, g, b]: Rgb) {
  const f = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
const contrast = (a: Rgb, b: Rgb) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
};

/** The lowest contrast between any text in the page and the nearest background behind it. */
async function worstContrast(page: Page): Promise<{ ratio: number; text: string }> {
  const pairs = await page.evaluate(() => {
    type El = {
      children: ArrayLike<El>;
      parentElement: El | null;
      textContent: string | null;
      childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
    };
    const g = globalThis as unknown as {
      document: { body: El };
      getComputedStyle(e: El): { color: string; backgroundColor: string; display: string; opacity: string };
    };
    const out: { fg: string; bg: string; text: string }[] = [];
    const bgOf = (e: El | null): string => {
      for (let x = e; x; x = x.parentElement) {
        const bg = g.getComputedStyle(x).backgroundColor;
        if (bg && bg !== "rgba(0, 0, 0, 0)" && bg !== "transparent") return bg;
      }
      return "rgb(255, 255, 255)";
    };
    const walk = (e: El) => {
      const style = g.getComputedStyle(e);
      if (style.display === "none" || style.opacity === "0") return;
      const own = Array.from(e.childNodes)
        .filter((n) => n.nodeType === 3)
        .map((n) => n.textContent ?? "")
        .join("")
        .trim();
      if (own) out.push({ fg: style.color, bg: bgOf(e), text: own.slice(0, 40) });
      for (const c of Array.from(e.children)) walk(c);
    };
    walk(g.document.body);
    return out;
  });
  const rgb = (s: string) => (s.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number) as Rgb;
  let worst = { ratio: Number.POSITIVE_INFINITY, text: "" };
  for (const p of pairs) {
    const ratio = contrast(rgb(p.fg), rgb(p.bg));
    if (ratio < worst.ratio) worst = { ratio, text: p.text };
  }
  return worst;
}

describe.skipIf(!hasChromium)("in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  for (const viewport of ["phone", "desktop"] as const) {
    for (const scheme of ["light", "dark"] as const) {
      it(`the briefing email reads on a ${viewport} in ${scheme} mode: no sideways scrolling, no outside request, text contrast at least 4.5:1`, async () => {
        const { page, context, outsideRequests } = await openPage(browser, viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await page.setContent(emailHtml, { waitUntil: "load" });
        await screenshot(page, `briefing-email-${scheme}`);
        if (viewport === "phone") expect(await overflowsHorizontally(page)).toBe(false);
        expect(outsideRequests).toEqual([]);
        const worst = await worstContrast(page);
        expect(worst.ratio, `"${worst.text}"`).toBeGreaterThanOrEqual(4.5);
        await context.close();
      });
    }

    it(`the preferences page fits a ${viewport}`, async () => {
      const { page, context, outsideRequests } = await openPage(browser, viewport);
      await page.setContent(preferencesHtml, { waitUntil: "load" });
      await screenshot(page, "preferences");
      if (viewport === "phone") expect(await overflowsHorizontally(page)).toBe(false);
      expect(outsideRequests).toEqual([]);
      expect(await page.locator("input#timezone").inputValue()).toBe("Europe/London");
      await context.close();
    });
  }
});
