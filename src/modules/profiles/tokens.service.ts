import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { apiTokens, subscribers } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { AppError, notFound } from "../../lib/errors.ts";
import { hashToken } from "../../lib/tokens.ts";

type Subscriber = typeof subscribers.$inferSelect;
type Authenticated = { subscriber: Subscriber; tokenId: string };

// A token seen within this long is served from memory: the app calls several routes per screen,
// and each would otherwise cost a database round trip before any work. Revocation, profile
// changes and unsubscribes clear the entry in this process at once; other processes within the TTL.
// Each entry lives 15 to 30 s at random, so tokens first seen together do not all expire together.
const AUTH_TTL_MS = 30_000;
const AUTH_CACHE_MAX = 50_000;
// lastUsedAt is for the token list ("used yesterday"), not an audit log: written at most this often.
const LAST_USED_RESOLUTION_MS = 60_000;

/** Recently authenticated tokens by hash, per database: processes and test databases never share one. */
class AuthCache {
  private readonly entries = new Map<string, Authenticated & { until: number }>();
  get(hash: string): Authenticated | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (e.until < performance.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return e;
  }
  set(hash: string, value: Authenticated) {
    if (this.entries.size >= AUTH_CACHE_MAX) this.entries.clear(); // bounded under a flood of tokens
    this.entries.set(hash, { ...value, until: performance.now() + AUTH_TTL_MS * (0.5 + Math.random() / 2) });
  }
  forget(match: (e: Authenticated) => boolean) {
    for (const [hash, e] of this.entries) if (match(e)) this.entries.delete(hash);
  }
}
const caches = new WeakMap<object, AuthCache>();
function cacheOf(db: object): AuthCache {
  let cache = caches.get(db);
  if (!cache) {
    cache = new AuthCache();
    caches.set(db, cache);
  }
  return cache;
}

/** Drops a subscriber's cached authentications: their profile or status changed. */
export function forgetSubscriberAuth(deps: Pick<Deps, "db">, subscriberId: string) {
  cacheOf(deps.db).forget((e) => e.subscriber.id === subscriberId);
}

/** The subscriber and token a bearer token names; revoked and unknown tokens are refused alike. */
export async function authenticateToken(
  deps: Pick<Deps, "db"> & Partial<Pick<Deps, "clock">>,
  token: string,
): Promise<Authenticated> {
  const hash = hashToken(token);
  const cache = cacheOf(deps.db);
  const cached = cache.get(hash);
  if (cached) return cached;
  const [row] = await deps.db
    .select({ subscriber: subscribers, tokenId: apiTokens.id, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .innerJoin(subscribers, eq(apiTokens.subscriberId, subscribers.id))
    .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)))
    .limit(1);
  if (!row || row.subscriber.status === "unsubscribed") {
    throw new AppError("UNAUTHORIZED", "the bearer token is not valid");
  }
  if (deps.clock) {
    const now = deps.clock.now();
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
      await deps.db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(
          and(
            eq(apiTokens.id, row.tokenId),
            or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, stale)),
          ),
        );
    }
  }
  const value = { subscriber: row.subscriber, tokenId: row.tokenId };
  cache.set(hash, value);
  return value;
}

export type TokenView = {
  id: string;
  label: string;
  createdAt: string;
  lastUsedAt: string | null;
  current: boolean;
};

/** The subscriber's live tokens, newest first: never the secret (only its hash is stored anyway). */
export async function listTokens(
  deps: Pick<Deps, "db">,
  subscriberId: string,
  currentTokenId?: string,
): Promise<TokenView[]> {
  const rows = await deps.db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.subscriberId, subscriberId), isNull(apiTokens.revokedAt)))
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
  return rows.map((t) => ({
    id: t.id,
    label: t.label,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    current: t.id === currentTokenId,
  }));
}

/** Revokes one of the subscriber's tokens; it answers 401 from then on. Another's is not found. */
export async function revokeToken(
  deps: Pick<Deps, "db" | "clock">,
  subscriberId: string,
  tokenId: string,
): Promise<void> {
  const rows = await deps.db
    .update(apiTokens)
    .set({ revokedAt: deps.clock.now() })
    .where(
      and(eq(apiTokens.id, tokenId), eq(apiTokens.subscriberId, subscriberId), isNull(apiTokens.revokedAt)),
    )
    .returning({ id: apiTokens.id });
  if (rows.length === 0) throw notFound("token");
  cacheOf(deps.db).forget((e) => e.tokenId === tokenId);
}
