import { createHmac, hash, randomBytes, timingSafeEqual } from "node:crypto";

/** 256 random bits, URL-safe. */
export function newToken(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

/** Every API request hashes its bearer token: the one-shot hash costs a third of a Hash object's. */
export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

/** An HMAC signature for links in emails (unsubscribe, preferences, feedback). */
export function signValue(secret: string, value: string): string {
  return createHmac("sha256", secret).update(value).digest("base64url").slice(0, 32);
}

export function verifySignature(secret: string, value: string, signature: string): boolean {
  const expected = Buffer.from(signValue(secret, value));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
