import { createHmac, timingSafeEqual } from "node:crypto";
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
export type StoryTokens = Record<StoryAction, string>;

// Both UUIDs as 22 base64url characters each: a briefing carries eight of these links per story.
const compact = (uuid: string) => Buffer.from(uuid.replace(/-/g, ""), "hex").toString("base64url");
function expand(b64: string): string | null {
  const hex = Buffer.from(b64, "base64url").toString("hex");
  if (hex.length !== 32) return null;
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  // base64url has spare bits in its last character: only the canonical spelling is accepted.
  return compact(uuid) === b64 ? uuid : null;
}

/**
 * One HMAC-SHA512 per (subscriber, story), cut into seven 72-bit tags, one per action. An HMAC
 * per link cost 4-5 µs, seven per story: more than the rest of an email's render. Slices of one
 * PRF output are independent, so the "up" tag says nothing about the "down" tag, and a token for
 * another subscriber or story means guessing 72 bits, online.
 */
const TAG_BYTES = 9;
const storyMac = (secret: string, subscriberId: string, storyId: string) =>
  createHmac("sha512", secret).update(`story-link:${subscriberId}:${storyId}`).digest();
const tagOf = (mac: Buffer, action: StoryAction) => {
  const i = STORY_ACTIONS.indexOf(action) * TAG_BYTES;
  return mac.subarray(i, i + TAG_BYTES);
};
const STORY_TOKEN = new RegExp(`^([\\w-]{22})([\\w-]{22})\\.(${STORY_ACTIONS.join("|")})\\.([\\w-]{12})$`);

/**
 * Signed tokens for one subscriber's per-story links, from a factory so the subscriber's part is
 * encoded once per email; each call signs one story for every action. A token names subscriber,
 * story and action, and cannot be turned into another subscriber's, story's or action's.
 */
export function storyLinkSigner(secret: string, subscriberId: string): (storyId: string) => StoryTokens {
  const sub = subscriberId.toLowerCase();
  const who = compact(sub);
  return (storyId) => {
    const story = storyId.toLowerCase();
    // 9-byte tags are 12 base64url characters each: the seven are encoded in one go.
    const tags = storyMac(secret, sub, story)
      .subarray(0, STORY_ACTIONS.length * TAG_BYTES)
      .toString("base64url");
    const ids = `${who}${compact(story)}`;
    const token = (action: StoryAction) => {
      const i = STORY_ACTIONS.indexOf(action) * 12;
      return `${ids}.${action}.${tags.slice(i, i + 12)}`;
    };
    return {
      read: token("read"),
      share: token("share"),
      up: token("up"),
      down: token("down"),
      more: token("more"),
      less: token("less"),
      hide_source: token("hide_source"),
    };
  };
}

/** Who, which story and what a story link token names, or null when malformed or not ours. */
export function readStoryLinkToken(secret: string, token: string): StoryLinkClaims | null {
  const m = STORY_TOKEN.exec(token);
  if (!m) return null;
  const subscriberId = expand(m[1]!);
  const storyId = expand(m[2]!);
  if (!subscriberId || !storyId) return null;
  const action = m[3] as StoryAction;
  const given = Buffer.from(m[4]!, "base64url");
  const expected = tagOf(storyMac(secret, subscriberId, storyId), action);
  // The tag must also be spelled canonically (spare bits again).
  if (given.length !== TAG_BYTES || given.toString("base64url") !== m[4]) return null;
  return timingSafeEqual(given, expected) ? { subscriberId, storyId, action } : null;
}
