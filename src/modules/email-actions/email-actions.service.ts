import { and, eq } from "drizzle-orm";
import { feedback } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../lib/errors.ts";
import { type FeedbackSignal, getStoryForSubscriber, recordFeedback } from "../briefings/index.ts";
import {
  getSubscriber,
  linkToken,
  readStoryLinkToken,
  type StoryAction,
  type StoryLinkClaims,
  type Subscriber,
  storyLinkSigner,
} from "../profiles/index.ts";
import { createShare } from "../sharing/index.ts";
import type { StoryView } from "../summaries/index.ts";

export const FEEDBACK_ACTIONS = ["up", "down", "more", "less", "hide_source"] as const satisfies readonly (
  | StoryAction
  | FeedbackSignal
)[];

export type OpenedStoryLink = { claims: StoryLinkClaims; subscriber: Subscriber; story: StoryView };

/**
 * The subscriber and story a link from the email names, when its token is genuine and made for one
 * of `actions`; null otherwise (tampered, another route's token, or the subscriber or story gone).
 * Reads only.
 */
export async function openStoryLink(
  deps: Pick<Deps, "db" | "config">,
  token: string,
  actions: readonly StoryAction[],
): Promise<OpenedStoryLink | null> {
  const claims = readStoryLinkToken(deps.config.linkSecret, token);
  if (!claims || !actions.includes(claims.action)) return null;
  try {
    const subscriber = await getSubscriber(deps, claims.subscriberId);
    const story = await getStoryForSubscriber(deps, claims.subscriberId, claims.storyId);
    return { claims, subscriber, story };
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND") return null;
    throw err;
  }
}

/**
 * Records the signal a feedback link carries, once per link: the token names (subscriber, story,
 * signal), so a second press, a reload of the answer or a resubmitted form changes nothing more.
 * Two presses in the same instant could both count; the weights are bounded, so that is harmless.
 */
export async function recordLinkFeedback(
  deps: Pick<Deps, "db" | "clock">,
  link: OpenedStoryLink,
): Promise<{ status: "recorded" | "already_recorded" }> {
  const signal = link.claims.action as FeedbackSignal;
  const [seen] = await deps.db
    .select({ id: feedback.id })
    .from(feedback)
    .where(
      and(
        eq(feedback.subscriberId, link.subscriber.id),
        eq(feedback.storyId, link.story.id),
        eq(feedback.signal, signal),
      ),
    )
    .limit(1);
  if (seen) return { status: "already_recorded" };
  await recordFeedback(deps, link.subscriber, link.story.id, signal);
  return { status: "recorded" };
}

/** A new public share link for the story, made by the subscriber the email was sent to. */
export async function shareFromLink(deps: Pick<Deps, "db" | "clock" | "config">, link: OpenedStoryLink) {
  return createShare(deps, link.subscriber.id, link.story.id, { reuse: true });
}

/** Paths (not URLs: the pages link within the site) for everything a story page offers. */
export function storyPaths(config: Deps["config"], subscriberId: string, storyId: string) {
  const t = storyLinkSigner(config.linkSecret, subscriberId)(storyId);
  return {
    read: `/read/${t.read}`,
    share: `/share/${t.share}`,
    feedback: (signal: (typeof FEEDBACK_ACTIONS)[number]) => `/feedback/${t[signal]}`,
    preferences: `/preferences/${linkToken(config.linkSecret, "preferences", subscriberId)}`,
  };
}
