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
