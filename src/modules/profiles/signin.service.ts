import { randomInt } from "node:crypto";
import { and, count, eq, gt, isNull } from "drizzle-orm";
import { authCodes } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../lib/errors.ts";
import { RateLimiter } from "../../lib/rate-limit.ts";
import { hashToken } from "../../lib/tokens.ts";
import { findSubscriberByEmail, issueToken } from "./profiles.service.ts";

const CODE_TTL_MS = 15 * 60_000;
// Anyone may ask for a code to any subscribed address: at most this many emails an hour reach it
// (more asks get the same answer and send nothing), so the endpoint cannot flood a mailbox.
const CODES_PER_HOUR = 5;
const VERIFY_BURST = 10;
const VERIFY_PER_SECOND = 1 / 90;
// No 0/O or 1/I/L: codes are typed by hand on a phone.
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LENGTH = 8;

const codeHash = (email: string, code: string) => hashToken(`${email.toLowerCase()}:${code.toUpperCase()}`);

/**
 * Magic-link sign-in for the app: a single-use code by email, valid 15 minutes. The answer is the
 * same whether or not the address belongs to a subscriber.
 */
export async function requestSignIn(
  deps: Pick<Deps, "db" | "clock" | "mailer" | "templates">,
  email: string,
): Promise<void> {
  const subscriber = await findSubscriberByEmail(deps, email);
  if (!subscriber || subscriber.status === "unsubscribed") return;
  const now = deps.clock.now();
  const [sent] = await deps.db
    .select({ n: count() })
    .from(authCodes)
    .where(
      and(
        eq(authCodes.subscriberId, subscriber.id),
        eq(authCodes.purpose, "signin"),
        gt(authCodes.createdAt, new Date(now.getTime() - 3_600_000)),
      ),
    );
  if ((sent?.n ?? 0) >= CODES_PER_HOUR) return;
  const code = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  await deps.db.insert(authCodes).values({
    subscriberId: subscriber.id,
    codeHash: codeHash(subscriber.email, code),
    purpose: "signin",
    expiresAt: new Date(now.getTime() + CODE_TTL_MS),
    createdAt: now,
  });
  const template = await deps.templates.get("signin");
  await deps.mailer.send({
    to: subscriber.email,
    subject: `Your Daybreak sign-in code: ${code}`,
    html: template.render({ code }),
    text: `Your Daybreak sign-in code: ${code}\n\nEnter it in the app within 15 minutes. If you did not ask to sign in, ignore this email.\n`,
  });
}

/**
 * Exchanges a valid, unused, unexpired code for a new API token (shown once). The caller limits
 * tries per address (signInTries), so a code cannot be guessed by brute force.
 */
export async function verifySignIn(
  deps: Pick<Deps, "db" | "clock">,
  email: string,
  code: string,
): Promise<{ token: string; subscriberId: string }> {
  const now = deps.clock.now();
  const [row] = await deps.db
    .update(authCodes)
    .set({ usedAt: now })
    .where(
      and(
        eq(authCodes.codeHash, codeHash(email, code.trim())),
        eq(authCodes.purpose, "signin"),
        isNull(authCodes.usedAt),
        gt(authCodes.expiresAt, now),
      ),
    )
    .returning({ subscriberId: authCodes.subscriberId });
  if (!row) throw new AppError("UNAUTHORIZED", "the code is not valid (wrong, used or expired)");
  return { token: await issueToken(deps, row.subscriberId, "app"), subscriberId: row.subscriberId };
}

/**
 * Tries at the codes of one address, in this process: 10 at once, then one every 90 s. 40 bits of
 * code against a few dozen tries in its 15 minutes.
 */
export function signInTries(clock: Pick<Deps, "clock">["clock"]): RateLimiter {
  return new RateLimiter(VERIFY_PER_SECOND, VERIFY_BURST, () => clock.now().getTime());
}
