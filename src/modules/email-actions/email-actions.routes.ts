import type { Context } from "hono";
import type { Deps } from "../../deps.ts";
import { documentLinkPage, PAGE_HEADERS } from "../../lib/html-page.ts";
import { type AppEnv, createRouter } from "../../lib/http.ts";
import type { StoryAction } from "../profiles/index.ts";
import {
  invalidLinkPage,
  renderFeedbackConfirm,
  renderFeedbackDone,
  renderReadPage,
  renderShareConfirm,
} from "./email-actions.pages.ts";
import {
  FEEDBACK_ACTIONS,
  openStoryLink,
  recordLinkFeedback,
  shareFromLink,
  storyPaths,
} from "./email-actions.service.ts";

// Personal pages: the path is a credential, so no shared cache keeps them.
const HEADERS = { ...PAGE_HEADERS, "cache-control": "private, no-store" };

/**
 * The per-story links in the briefing email: read in the app, share, and feedback. Each token is
 * signed for one (subscriber, story, action).
 *
 * GET never changes anything; a button on the page POSTs. Mail scanners and link previewers
 * (Outlook Safe Links, Gmail's proxy, corporate gateways) fetch every link in a message, so a
 * feedback link recorded on GET would vote on every story of every scanned email, and a share link
 * would publish a story nobody chose to share. The POST is idempotent too: one count per link.
 */
export function createEmailActionRoutes(deps: Deps) {
  const app = createRouter<AppEnv>();
  const open = (c: Context, actions: readonly StoryAction[]) =>
    openStoryLink(deps, c.req.param("token") ?? "", actions);
  const invalid = (c: Context) => c.html(invalidLinkPage(), 404, HEADERS);
  const paths = (link: NonNullable<Awaited<ReturnType<typeof openStoryLink>>>) =>
    storyPaths(deps.config, link.subscriber.id, link.story.id);

  const gone = "A tampered, unknown or other route's link, or the story is gone";
  const doc = (method: "get" | "post", path: string, summary: string, answers: Record<number, string>) =>
    documentLinkPage(app, method, path, summary, { ...answers, 404: gone });
  doc("get", "/read/{token}", "A story from the email, as its subscriber reads it (signed link; no script)", {
    200: "The story, with share and feedback buttons",
  });
  doc("get", "/feedback/{token}", "Feedback link from the email: a page asking to confirm; records nothing", {
    200: "The confirmation button",
  });
  doc("post", "/feedback/{token}", "Records the link's signal (up, down, more, less, hide_source) once", {
    200: "What changes in the next briefing",
  });
  doc("get", "/share/{token}", "Share link from the email: a page asking to confirm; creates nothing", {
    200: "The confirmation button",
  });
  doc("post", "/share/{token}", "Creates a public share link for the story and redirects to it", {
    303: "To the new /s/{token} page",
  });

  app.get("/read/:token", async (c) => {
    const link = await open(c, ["read"]);
    if (!link) return invalid(c);
    return c.html(renderReadPage(link.story, paths(link)), 200, HEADERS);
  });

  app.get("/feedback/:token", async (c) => {
    const link = await open(c, FEEDBACK_ACTIONS);
    if (!link) return invalid(c);
    const signal = link.claims.action as (typeof FEEDBACK_ACTIONS)[number];
    return c.html(renderFeedbackConfirm(link.story, signal, paths(link)), 200, HEADERS);
  });
  app.post("/feedback/:token", async (c) => {
    const link = await open(c, FEEDBACK_ACTIONS);
    if (!link) return invalid(c);
    const signal = link.claims.action as (typeof FEEDBACK_ACTIONS)[number];
    const { status } = await recordLinkFeedback(deps, link);
    return c.html(renderFeedbackDone(link.story, signal, paths(link), status), 200, HEADERS);
  });

  app.get("/share/:token", async (c) => {
    const link = await open(c, ["share"]);
    if (!link) return invalid(c);
    return c.html(renderShareConfirm(link.story, paths(link)), 200, HEADERS);
  });
  app.post("/share/:token", async (c) => {
    const link = await open(c, ["share"]);
    if (!link) return invalid(c);
    const share = await shareFromLink(deps, link);
    return c.redirect(`/s/${share.token}`, 303);
  });
  return app;
}
