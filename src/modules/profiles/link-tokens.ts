import { signValue, verifySignature } from "../../lib/tokens.ts";

export type LinkPurpose = "unsubscribe" | "preferences";

/** A signed, stateless token for links in emails: the subscriber id and an HMAC of purpose + id. */
export function linkToken(secret: string, purpose: LinkPurpose, subscriberId: string): string {
  return `${subscriberId}.${signValue(secret, `${purpose}:${subscriberId}`)}`;
}

/** The subscriber id a link token names, or null when it is malformed or its signature is wrong. */
export function readLinkToken(secret: string, purpose: LinkPurpose, token: string): string | null {
  const m = token.match(/^([0-9a-f-]{36})\.([\w-]{16,64})$/i);
  if (!m) return null;
  return verifySignature(secret, `${purpose}:${m[1]}`, m[2]!) ? m[1]! : null;
}

/** What a per-story link in the briefing email does: read, share, or one feedback signal. */
export const STORY_ACTIONS = ["read", "share", "up", "down", "more", "less", "hide_source"] as const;
export type StoryAction = (typeof STORY_ACTIONS)[number];
export type StoryLinkClaims = { subscriberId: string; storyId: string; action: StoryAction };

// Both UUIDs as 22 base64url characters each: a briefing carries seven of these links per story,
// and Mustache writes "/" in a URL as "&#x2F;", so every character saved counts several times.
const compact = (uuid: string) => Buffer.from(uuid.replace(/-/g, ""), "hex").toString("base64url");
function expand(b64: string): string | null {
  const hex = Buffer.from(b64, "base64url").toString("hex");
  if (hex.length !== 32) return null;
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  // base64url has spare bits in its last character: only the canonical spelling is accepted.
  return compact(uuid) === b64 ? uuid : null;
}
const storySigned = (c: StoryLinkClaims) => `story-link:${c.action}:${c.subscriberId}:${c.storyId}`;
const STORY_TOKEN = new RegExp(`^([\\w-]{22})([\\w-]{22})\\.(${STORY_ACTIONS.join("|")})\\.([\\w-]{32})$`);

/**
 * Signed tokens for one subscriber's per-story links, from a factory so the subscriber's part is
 * encoded once per email. The HMAC covers subscriber, story and action: a token cannot be turned
 * into another subscriber's, another story's or another action's.
 */
export function storyLinkSigner(secret: string, subscriberId: string) {
  const who = compact(subscriberId);
  const sub = subscriberId.toLowerCase();
  return (storyId: string, action: StoryAction): string => {
    const story = storyId.toLowerCase();
    const sig = signValue(secret, storySigned({ subscriberId: sub, storyId: story, action }));
    return `${who}${compact(story)}.${action}.${sig}`;
  };
}

/** Who, which story and what a story link token names, or null when malformed or not ours. */
export function readStoryLinkToken(secret: string, token: string): StoryLinkClaims | null {
  const m = STORY_TOKEN.exec(token);
  if (!m) return null;
  const subscriberId = expand(m[1]!);
  const storyId = expand(m[2]!);
  if (!subscriberId || !storyId) return null;
  const claims = { subscriberId, storyId, action: m[3] as StoryAction };
  return verifySignature(secret, storySigned(claims), m[4]!) ? claims : null;
}
