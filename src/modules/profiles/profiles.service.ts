import { and, eq, sql } from "drizzle-orm";
import { anyOf } from "../../db/any-of.ts";
import { apiTokens, subscribers } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { AppError, isCheckViolation, isUniqueViolation, notFound } from "../../lib/errors.ts";
import { hashToken, newToken } from "../../lib/tokens.ts";
import type { ProfilePatch, SubscriberInput } from "./profiles.schemas.ts";
import { authenticateToken, forgetSubscriberAuth } from "./tokens.service.ts";

export type Subscriber = typeof subscribers.$inferSelect;

/** Creates a subscriber and their first API token; the token is returned once and stored hashed. */
export async function createSubscriber(
  deps: Pick<Deps, "db">,
  input: SubscriberInput,
  opts: { status?: "active" | "pending" } = {},
): Promise<{ subscriber: Subscriber; token: string }> {
  const token = newToken("dbk_");
  try {
    return await deps.db.transaction(async (tx) => {
      const [subscriber] = await tx
        .insert(subscribers)
        .values({
          email: input.email.trim(),
          name: input.name ?? null,
          role: input.role,
          industry: input.industry,
          interests: input.interests ?? [],
          followed: input.followed ?? [],
          mutedTopics: input.mutedTopics ?? [],
          mutedSources: input.mutedSources ?? [],
          region: input.region ?? null,
          language: input.language ?? "en",
          timezone: input.timezone,
          deliveryTime: input.deliveryTime,
          briefingLength: input.briefingLength ?? 5,
          status: opts.status ?? "active",
        })
        .returning();
      await tx.insert(apiTokens).values({ subscriberId: subscriber!.id, tokenHash: hashToken(token) });
      return { subscriber: subscriber!, token };
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new AppError("CONFLICT", "a subscriber with this email already exists", [
        { location: "body.email", message: "is already subscribed" },
      ]);
    }
    throw refusedZone(err, input.timezone) ?? err;
  }
}

/**
 * The database's refusal of a time zone (its CHECK: every local date is computed by PostgreSQL,
 * which knows fewer aliases than Intl), as the field error it is.
 */
function refusedZone(err: unknown, zone: string | undefined): AppError | null {
  if (!isCheckViolation(err, "subscribers_timezone_known")) return null;
  return new AppError("VALIDATION", `the time zone ${zone} cannot be used for deliveries`, [
    { location: "body.timezone", message: "is not a time zone deliveries can be scheduled in" },
  ]);
}

/** The subscriber a bearer token belongs to; revoked and unknown tokens are refused alike. */
export async function authenticate(deps: Pick<Deps, "db">, token: string): Promise<Subscriber> {
  return (await authenticateToken(deps, token)).subscriber;
}

export async function getSubscriber(deps: Pick<Deps, "db">, id: string): Promise<Subscriber> {
  const [row] = await deps.db.select().from(subscribers).where(eq(subscribers.id, id));
  if (!row) throw notFound("subscriber");
  return row;
}

export async function updateProfile(
  deps: Pick<Deps, "db" | "clock">,
  id: string,
  patch: ProfilePatch,
): Promise<Subscriber> {
  const { paused, ...fields } = patch;
  const current = await getSubscriber(deps, id);
  const status =
    paused === undefined || current.status === "unsubscribed" || current.status === "bounced"
      ? undefined
      : paused
        ? "paused"
        : "active";
  const [row] = await deps.db
    .update(subscribers)
    .set({ ...fields, ...(status ? { status } : {}), updatedAt: deps.clock.now() })
    .where(eq(subscribers.id, id))
    .returning()
    .catch((err) => {
      throw refusedZone(err, fields.timezone) ?? err;
    });
  forgetSubscriberAuth(deps, id);
  return row!;
}

/** Subscribers who should get a briefing: confirmed, not paused, not unsubscribed. */
export async function activeSubscribers(deps: Pick<Deps, "db">, ids?: string[]): Promise<Subscriber[]> {
  // An empty list names nobody (not everyone: an admin's `subscriberIds: []` once built them all).
  if (ids?.length === 0) return [];
  const where = ids
    ? and(eq(subscribers.status, "active"), anyOf(subscribers.id, ids, "uuid"))
    : eq(subscribers.status, "active");
  return deps.db.select().from(subscribers).where(where).orderBy(subscribers.createdAt);
}

export function toProfileView(s: Subscriber) {
  return {
    id: s.id,
    email: s.email,
    name: s.name,
    role: s.role,
    industry: s.industry,
    interests: s.interests,
    followed: s.followed,
    mutedTopics: s.mutedTopics,
    mutedSources: s.mutedSources,
    region: s.region,
    language: s.language,
    timezone: s.timezone,
    deliveryTime: s.deliveryTime,
    briefingLength: s.briefingLength,
    status: s.status,
    createdAt: s.createdAt.toISOString(),
  };
}

/** Issues another token for a subscriber (a new device, or a lost one); returned once. */
export async function issueToken(
  deps: Pick<Deps, "db">,
  subscriberId: string,
  label = "default",
): Promise<string> {
  const token = newToken("dbk_");
  await deps.db.insert(apiTokens).values({ subscriberId, tokenHash: hashToken(token), label });
  return token;
}

export async function findSubscriberByEmail(
  deps: Pick<Deps, "db">,
  email: string,
): Promise<Subscriber | undefined> {
  const [row] = await deps.db
    .select()
    .from(subscribers)
    .where(sql`lower(${subscribers.email}) = lower(${email})`);
  return row;
}

/** Stops all mail for good (until they sign up again). Idempotent. */
export async function unsubscribe(deps: Pick<Deps, "db" | "clock">, id: string): Promise<void> {
  await deps.db
    .update(subscribers)
    .set({ status: "unsubscribed", updatedAt: deps.clock.now() })
    .where(eq(subscribers.id, id));
  forgetSubscriberAuth(deps, id);
}
