import { html } from "hono/html";
import { htmlPage } from "../../lib/html-page.ts";
import type { StoryView } from "../summaries/index.ts";
import type { FEEDBACK_ACTIONS, storyPaths } from "./email-actions.service.ts";

type Signal = (typeof FEEDBACK_ACTIONS)[number];
type Paths = ReturnType<typeof storyPaths>;

// Pages a subscriber reaches from their email: never indexed, never cached by a shared cache.
const head = html`<meta name="robots" content="noindex, nofollow">`;

const STYLE = `
  h1 { font-size: 26px; line-height: 1.25; margin: 8px 0 16px; }
  ul { padding-left: 20px; } li { margin-bottom: 10px; }
  .cite { font-size: 14px; color: #5b6470; white-space: nowrap; }
  .why { padding: 12px 16px; background: #fff; border-radius: 10px; }
  .sources { font-size: 14px; color: #5b6470; border-top: 1px solid #ddd; padding-top: 12px; margin-top: 24px; }
  .actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 20px; }
  .actions form { margin: 0; }
  .actions button { margin-top: 0; padding: 8px 14px; font-size: 15px; }
  button.quiet { background: #ece9e2; color: #1d232b; }
  .label { display: inline-block; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #ece9e2; color: #5b6470; }
  @media (prefers-color-scheme: dark) {
    .why { background: #1b2027; } button.quiet { background: #262c34; color: #e6e9ee; }
    .cite, .sources, .hint { color: #aab3bf; } .sources { border-color: #39414c; }
    .label { background: #262c34; color: #aab3bf; }
  }`;

const page = (title: string, body: unknown) => htmlPage(title, body, { head, style: STYLE });

const lead = (story: StoryView) => story.sources[0]?.outlet ?? "this source";

/** What each signal asks, its button, and what the reader is told once it is recorded. */
export function signalCopy(signal: Signal, story: StoryView) {
  switch (signal) {
    case "up":
      return {
        ask: "Was this story useful to you?",
        button: "👍 Yes, it was useful",
        done: "Thanks. You'll see more stories like this.",
      };
    case "down":
      return {
        ask: "Not useful to you?",
        button: "👎 Not useful",
        done: "Noted. You'll see fewer stories like this.",
      };
    case "more":
      return {
        ask: "More stories like this one?",
        button: "More like this",
        done: "You'll see more like this.",
      };
    case "less":
      return {
        ask: "Fewer stories like this one?",
        button: "Less like this",
        done: "You'll see less like this.",
      };
    case "hide_source":
      return {
        ask: `Hide ${lead(story)} from your briefings?`,
        button: `Hide ${lead(story)}`,
        done: `${lead(story)} is hidden: stories only it reports no longer appear in your briefing.`,
      };
  }
}

export const invalidLinkPage = () =>
  page(
    "Link not valid",
    html`<h1>This link is not valid</h1><p>It may be incomplete, or the story is no longer available. Use the links in your most recent Daybreak email.</p>`,
  );

function citations(story: StoryView, ns: number[]) {
  const byN = new Map(story.sources.map((s) => [s.n, s]));
  return ns
    .map((n) => byN.get(n))
    .filter((s) => s !== undefined)
    .map((s) => html` <a class="cite" href="${s.url}" rel="noopener nofollow">(${s.domain})</a>`);
}

const feedbackButtons = (story: StoryView, paths: Paths) =>
  (["up", "down", "more", "less", "hide_source"] as const).map(
    (signal) =>
      html`<form method="post" action="${paths.feedback(signal)}"><button type="submit" class="quiet">${signal === "up" ? "👍 Useful" : signal === "down" ? "👎 Not useful" : signalCopy(signal, story).button}</button></form>`,
  );

/** The story as its subscriber reads it: the summary, why it matters to them, share and feedback. */
export function renderReadPage(story: StoryView, paths: Paths) {
  return page(
    story.headline,
    html`<h1>${story.headline}</h1>
  ${story.singleSource ? html`<p><span class="label">Single source</span></p>` : ""}
  <ul>${story.keyPoints.map((k) => html`<li>${k.text}${citations(story, k.citations)}</li>`)}</ul>
  ${story.analysis.map((p) => html`<p>${p.text}${citations(story, p.citations)}</p>`)}
  ${story.whyItMatters ? html`<p class="why"><strong>Why it matters to you:</strong> ${story.whyItMatters}</p>` : ""}
  <div class="sources">Sources: ${story.sources.map(
    (s, i) => html`${i ? ", " : ""}<a href="${s.url}" rel="noopener nofollow">${s.outlet}</a>`,
  )}</div>
  <div class="actions"><form method="post" action="${paths.share}"><button type="submit">Share this story</button></form></div>
  <div class="actions">${feedbackButtons(story, paths)}</div>
  <p class="hint"><a href="${paths.preferences}">Manage preferences</a></p>`,
  );
}

/** The confirmation a feedback link opens: opening it records nothing, the button does. */
export function renderFeedbackConfirm(story: StoryView, signal: Signal, paths: Paths) {
  const copy = signalCopy(signal, story);
  return page(
    copy.ask,
    html`<h1>${copy.ask}</h1>
  <p>About: <a href="${paths.read}">${story.headline}</a></p>
  <form method="post" action="${paths.feedback(signal)}"><button type="submit">${copy.button}</button></form>
  <p class="hint">Your answer shapes tomorrow's briefing. <a href="${paths.preferences}">Manage preferences</a></p>`,
  );
}

export function renderFeedbackDone(
  story: StoryView,
  signal: Signal,
  paths: Paths,
  status: "recorded" | "already_recorded",
) {
  const copy = signalCopy(signal, story);
  return page(
    "Thanks",
    html`<h1>${copy.done}</h1>
  ${status === "already_recorded" ? html`<p class="hint">You had already told us; it counts once.</p>` : ""}
  <p>From tomorrow's briefing on. About: <a href="${paths.read}">${story.headline}</a></p>
  <p><a href="${paths.preferences}">Manage preferences</a>: role, industry, topics, delivery time.</p>`,
  );
}

/** The share link's confirmation: a public link is made only when the button is pressed. */
export function renderShareConfirm(story: StoryView, paths: Paths) {
  return page(
    "Share this story",
    html`<h1>Share this story</h1>
  <p><a href="${paths.read}">${story.headline}</a></p>
  <p>This makes a public link: anyone who has it can read the story with its sources. It does not show who shared it.</p>
  <form method="post" action="${paths.share}"><button type="submit">Create the share link</button></form>`,
  );
}
