import { html, raw } from "hono/html";
import type { StoryView } from "../summaries/index.ts";

/** No script, no third-party request: styles inline, images none. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STYLE = `
  :root { color-scheme: light dark; }
  body { margin: 0; font: 17px/1.6 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; background: #f6f5f2; color: #1d232b; }
  main { max-width: 680px; margin: 0 auto; padding: 24px 20px 48px; }
  .brand { font-size: 13px; letter-spacing: 1px; text-transform: uppercase; color: #5b6470; }
  h1 { font-size: 28px; line-height: 1.25; margin: 8px 0 16px; }
  ul { padding-left: 20px; } li { margin-bottom: 10px; }
  .cite { font-size: 14px; color: #5b6470; white-space: nowrap; }
  a { color: #1a5fb4; }
  .sources { font-size: 14px; color: #5b6470; border-top: 1px solid #ddd; padding-top: 12px; margin-top: 24px; }
  .cta { margin-top: 32px; padding: 20px; background: #fff; border-radius: 12px; text-align: center; }
  .cta a.button { display: inline-block; margin-top: 8px; padding: 12px 20px; background: #1a5fb4; color: #fff; border-radius: 8px; text-decoration: none; font-weight: 600; }
  .label { display: inline-block; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #ece9e2; color: #5b6470; }
  @media (prefers-color-scheme: dark) {
    body { background: #111418; color: #e6e9ee; } .cta { background: #1b2027; } a { color: #8ab4f8; }
    .label { background: #262c34; color: #aab3bf; }
  }`;

function citations(story: StoryView, ns: number[]) {
  const byN = new Map(story.sources.map((s) => [s.n, s]));
  return ns
    .map((n) => byN.get(n))
    .filter((s) => s !== undefined)
    .map((s) => html` <a class="cite" href="${s.url}" rel="noopener nofollow">(${s.domain})</a>`);
}

/** The shared story page: headline, key points and analysis with linked citations, and the invitation. */
export function renderSharePage(story: StoryView, opts: { pageUrl: string; signupUrl: string }) {
  const description = story.keyPoints[0]?.text ?? story.headline;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${story.headline} · Daybreak</title>
<meta name="description" content="${description}">
<meta property="og:type" content="article">
<meta property="og:title" content="${story.headline}">
<meta property="og:description" content="${description}">
<meta property="og:url" content="${opts.pageUrl}">
<meta property="og:site_name" content="Daybreak">
<meta name="twitter:card" content="summary">
<meta name="twitter:title" content="${story.headline}">
<meta name="twitter:description" content="${description}">
<style>${raw(STYLE)}</style>
</head>
<body>
<main>
  <div class="brand">Daybreak</div>
  <h1>${story.headline}</h1>
  ${story.singleSource ? html`<p><span class="label">Single source</span></p>` : ""}
  <ul>
    ${story.keyPoints.map((k) => html`<li>${k.text}${citations(story, k.citations)}</li>`)}
  </ul>
  ${story.analysis.map((p) => html`<p>${p.text}${citations(story, p.citations)}</p>`)}
  <div class="sources">Sources: ${story.sources.map(
    (s, i) => html`${i ? ", " : ""}<a href="${s.url}" rel="noopener nofollow">${s.outlet}</a>`,
  )}</div>
  <section class="cta">
    <strong>Get your own daily briefing</strong>
    <p>The few stories that matter to your role and industry, every morning, each point linked to its source.</p>
    <a class="button" href="${opts.signupUrl}">Get your own daily briefing</a>
  </section>
  <p class="brand" style="margin-top:24px;text-align:center">Shared from Daybreak</p>
</main>
</body>
</html>`;
}

export function renderGonePage(reason: "revoked" | "expired", signupUrl: string) {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>This shared story is no longer available · Daybreak</title><style>${raw(STYLE)}</style></head>
<body><main>
  <div class="brand">Daybreak</div>
  <h1>This shared story is no longer available</h1>
  <p>The link was ${reason === "revoked" ? "withdrawn by the person who shared it" : "set to expire, and it has"}.</p>
  <section class="cta"><strong>Get your own daily briefing</strong>
  <p>The few stories that matter to your work, every morning, each point linked to its source.</p>
  <a class="button" href="${signupUrl}">Get your own daily briefing</a></section>
</main></body></html>`;
}
