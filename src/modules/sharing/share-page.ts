import { html } from "hono/html";
import { htmlPage } from "../../lib/html-page.ts";
import type { StoryView } from "../summaries/index.ts";

const STORY_STYLE = `
  h1 { font-size: 28px; line-height: 1.25; margin: 8px 0 16px; }
  ul { padding-left: 20px; } li { margin-bottom: 10px; }
  .cite { font-size: 14px; color: #5b6470; white-space: nowrap; }
  .sources { font-size: 14px; color: #5b6470; border-top: 1px solid #ddd; padding-top: 12px; margin-top: 24px; }
  .cta { margin-top: 32px; padding: 20px; background: #fff; border-radius: 12px; text-align: center; }
  .cta a.button { display: inline-block; margin-top: 8px; padding: 12px 20px; background: #1a5fb4; color: #fff; border-radius: 8px; text-decoration: none; font-weight: 600; }
  .label { display: inline-block; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #ece9e2; color: #5b6470; }
  @media (prefers-color-scheme: dark) { .cta { background: #1b2027; } .label { background: #262c34; color: #aab3bf; } .cite, .sources { color: #9aa3ad; } }`;

function citations(story: StoryView, ns: number[]) {
  const byN = new Map(story.sources.map((s) => [s.n, s]));
  return (
    ns
      .map((n) => byN.get(n))
      .filter((s) => s !== undefined)
      // Isolated left to right: after a sentence ending in Hebrew or Arabic it stays at the end.
      .map((s) => html` <a class="cite" dir="ltr" href="${s.url}" rel="noopener nofollow">(${s.domain})</a>`)
  );
}

const invitation = (signupUrl: string, pitch: string) =>
  html`<section class="cta"><strong>Get your own daily briefing</strong><p>${pitch}</p><a class="button" href="${signupUrl}">Get your own daily briefing</a></section>`;

/** The shared story page: headline, key points and analysis with linked citations, and the invitation. */
export function renderSharePage(story: StoryView, opts: { pageUrl: string; signupUrl: string }) {
  const description = story.keyPoints[0]?.text ?? story.headline;
  const head = html`<meta name="description" content="${description}">
<meta property="og:type" content="article">
<meta property="og:title" content="${story.headline}">
<meta property="og:description" content="${description}">
<meta property="og:url" content="${opts.pageUrl}">
<meta property="og:site_name" content="Daybreak">
<meta name="twitter:card" content="summary">
<meta name="twitter:title" content="${story.headline}">
<meta name="twitter:description" content="${description}">`;
  const body = html`<h1 dir="auto">${story.headline}</h1>
  ${story.singleSource ? html`<p><span class="label">Single source</span></p>` : ""}
  <ul>${story.keyPoints.map((k) => html`<li dir="auto">${k.text}${citations(story, k.citations)}</li>`)}</ul>
  ${story.analysis.map((p) => html`<p dir="auto">${p.text}${citations(story, p.citations)}</p>`)}
  <div class="sources">Sources: ${story.sources.map(
    (s, i) => html`${i ? ", " : ""}<a href="${s.url}" rel="noopener nofollow">${s.outlet}</a>`,
  )}</div>
  ${invitation(opts.signupUrl, "The few stories that matter to your role and industry, every morning, each point linked to its source.")}
  <p class="brand" style="margin-top:24px;text-align:center">Shared from Daybreak</p>`;
  return htmlPage(story.headline, body, { head, style: STORY_STYLE });
}

const WHY_GONE = {
  revoked: "The link was withdrawn by the person who shared it.",
  expired: "The link was set to expire, and it has.",
  unknown: "This link does not lead to a story: it may have been cut short or mistyped.",
};

export function renderGonePage(reason: keyof typeof WHY_GONE, signupUrl: string) {
  const body = html`<h1>This shared story is no longer available</h1>
  <p>${WHY_GONE[reason]}</p>
  ${invitation(signupUrl, "The few stories that matter to your work, every morning, each point linked to its source.")}`;
  return htmlPage("This shared story is no longer available", body, { style: STORY_STYLE });
}
