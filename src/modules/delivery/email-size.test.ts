import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { templatesDir } from "../../deps.ts";
import { createTemplateStore } from "../../lib/mjml-templates.ts";
import type { BriefingView } from "../briefings/index.ts";
import { briefingEmailModel, renderBriefingEmail, storyLinkUrls } from "./briefing-email.ts";

// Gmail clips a message whose HTML is over ~102 KB, hiding what follows: the footer with
// Unsubscribe and Manage preferences. The largest briefing a reader can ask for must fit.

const point = (i: number) => ({
  text: `${"The port authority said the backlog of containers would take about a week to clear, and forwarders warned of higher storage charges for importers across the region".slice(0, 190)} ${i}.`,
  citations: [1, 2],
});
const sources = [1, 2, 3].map((n) => ({
  n,
  outlet: `Outlet number ${n}`,
  domain: `outlet${n}.example`,
  url: `https://outlet${n}.example/2026/11/27/a-rather-long-article-slug-about-the-port-reopening-after-the-cyberattack-${n}`,
  title: "Title",
  publishedAt: "2026-11-27T05:00:00.000Z",
}));

describe("the briefing email's size", () => {
  it("stays under Gmail's clipping size at the largest briefing (12 stories of 4 long key points, every link)", async () => {
    const template = await createTemplateStore(templatesDir).get("briefing");
    const briefing = {
      id: randomUUID(),
      date: "2026-11-27",
      subscriberId: randomUUID(),
      generatedAt: "2026-11-27T06:00:00.000Z",
      alsoToday: [],
      items: Array.from({ length: 12 }, (_, k) => ({
        rank: k + 1,
        reason: "Central banks & rates · mentions rate cut · 3 outlets",
        score: 0.9,
        story: {
          id: randomUUID(),
          headline: "Bund yields slide as ECB signals rate cuts, while bank stocks lag behind their peers",
          singleSource: false,
          keyPoints: [0, 1, 2, 3].map(point),
          analysis: [point(9)],
          whyItMatters:
            "It bears on central banks & rates and credit & lending (the coverage mentions rate cut), which shapes decisions for a CFO in banking.",
          sources,
          summaryVersion: 1,
          generatedBy: "extractive",
        },
      })),
    } as unknown as BriefingView;
    const links = {
      unsubscribeUrl: `https://daybreak.example/unsubscribe/${"t".repeat(60)}`,
      preferencesUrl: `https://daybreak.example/preferences/${"t".repeat(60)}`,
      storyLinks: storyLinkUrls(
        { publicBaseUrl: "https://daybreak.example", linkSecret: "s".repeat(40) },
        randomUUID(),
      ),
    };
    const model = briefingEmailModel(
      briefing,
      { email: "reader@example.com", name: "Ana", timezone: "UTC", deliveryTime: "07:00" },
      links,
    );
    const { html } = renderBriefingEmail(template, model);
    expect(Buffer.byteLength(html)).toBeLessThan(95 * 1024); // 99.3 KB before the leaner markup
    expect(html).toContain("Unsubscribe");
    // The inbox preview ends with invisible filler, so clients do not run it into the body's text.
    expect(html).toMatch(/Bund yields slide[^<]*(?:&#847;&zwnj;&nbsp;){60}<\/div>/);
    // Each key point takes its own direction; its citations stay left to right at its end.
    expect(html).toMatch(/<li dir="auto"[^>]*>[^<]+<span class="cite" dir="ltr">/);
  });
});
