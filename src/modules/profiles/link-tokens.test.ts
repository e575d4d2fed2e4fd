import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { linkToken, readLinkToken, readStoryLinkToken, storyLinkSigner } from "./link-tokens.ts";

const SECRET = "a-test-secret-of-enough-length-0123456789";
const alice = randomUUID();
const bob = randomUUID();
const story = randomUUID();
const other = randomUUID();

describe("story link tokens", () => {
  it("name the subscriber, the story and the action they were signed for", () => {
    const token = storyLinkSigner(SECRET, alice)(story).more;
    expect(readStoryLinkToken(SECRET, token)).toEqual({
      subscriberId: alice,
      storyId: story,
      action: "more",
    });
    expect(token).toMatch(/^[\w-]{44}\.more\.[\w-]{12}$/);
  });

  it("cannot be moved to another subscriber, story or action, nor read with another secret", () => {
    const token = storyLinkSigner(SECRET, alice)(story).up;
    const b64 = (id: string) => Buffer.from(id.replace(/-/g, ""), "hex").toString("base64url");
    expect(readStoryLinkToken(SECRET, token.replace(b64(alice), b64(bob)))).toBeNull();
    expect(readStoryLinkToken(SECRET, token.replace(b64(story), b64(other)))).toBeNull();
    expect(readStoryLinkToken(SECRET, token.replace(".up.", ".down."))).toBeNull();
    // Nor does one action's tag fit another's.
    const tokens = storyLinkSigner(SECRET, alice)(story);
    const tag = (t: string) => t.split(".")[2]!;
    expect(readStoryLinkToken(SECRET, tokens.down.replace(tag(tokens.down), tag(tokens.up)))).toBeNull();
    expect(readStoryLinkToken(`${SECRET}x`, token)).toBeNull();
  });

  it("refuses any changed character, including the spare bits of the encoded ids", () => {
    const token = storyLinkSigner(SECRET, alice)(story).hide_source;
    for (let i = 0; i < token.length; i++) {
      if (token[i] === ".") continue;
      const swapped = token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
      expect(readStoryLinkToken(SECRET, swapped), `position ${i}`).toBeNull();
    }
    expect(readStoryLinkToken(SECRET, "")).toBeNull();
    expect(readStoryLinkToken(SECRET, `${token}x`)).toBeNull();
  });

  it("are not interchangeable with unsubscribe or preferences tokens", () => {
    const prefs = linkToken(SECRET, "preferences", alice);
    expect(readStoryLinkToken(SECRET, prefs)).toBeNull();
    expect(readLinkToken(SECRET, "preferences", storyLinkSigner(SECRET, alice)(story).read)).toBeNull();
  });
});
