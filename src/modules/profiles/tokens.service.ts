import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { apiTokens, subscribers } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { AppError, notFound } from "../../lib/errors.ts";
import { ConcurrencyLimit } from "../../lib/rate-limit.ts";
import { hashToken } from "../../lib/tokens.ts";

type Subscriber = typeof subscribers.$inferSelect;
type Authenticated = { subscriber: Subscriber; tokenId: string };

// A token seen within this long is served from memory: the app calls several routes per screen,
// and each would otherwise cost a database round trip before any work. Revocation, profile
// changes and unsubscribes clear the entry in this process at once; other processes see them
// within the TTL. A token in use is looked up again in the background once half its TTL has
// passed, so a busy reader never waits for the database and never holds an entry older than that.
const AUTH_TTL_MS = 30_000;
const AUTH_CACHE_MAX = 50_000;
// lastUsedAt is for the token list ("used yesterday"), not an audit log: written at most this often.
const LAST_USED_RESOLUTION_MS = 60_000;

type Entry = Authenticated & { until: number; refreshAt: number; refreshing?: boolean };

/** Recently authenticated tokens by hash, per database: processes and test databases never share one. */
class AuthCache {
  readonly entries = new Map<string, Entry>();
  // Lookups share the pool with everything else: a burst of cold tokens must not flood it.
  readonly lookups = new ConcurrencyLimit(4);
  // Bumped by every forget: a lookup that began before a revocation must not cache what it read.
  generation = 0;
  set(hash: string, value: Authenticated) {
    if (this.entries.size >= AUTH_CACHE_MAX) this.entries.clear(); // bounded under a flood of tokens
    const now = performance.now();
    // Jittered, so tokens first seen together are not all looked up again together.
    const ttl = AUTH_TTL_MS * (0.75 + Math.random() / 4);
    this.entries.set(hash, { ...value, until: now + ttl, refreshAt: now + ttl / 2 });
  }
  forget(match: (e: Authenticated) => boolean) {
    this.generation++;
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
  const cached = cache.entries.get(hash);
  const now = performance.now();
  if (cached && cached.until > now) {
    if (cached.refreshAt <= now && !cached.refreshing) {
      cached.refreshing = true;
      // A failed or refused lookup drops the entry: the next request asks the database itself.
      lookUp(deps, hash).catch(() => cache.entries.delete(hash));
    }
    return cached;
  }
  return lookUp(deps, hash);
}

async function lookUp(
  deps: Pick<Deps, "db"> & Partial<Pick<Deps, "clock">>,
  hash: string,
): Promise<Authenticated> {
  const cache = cacheOf(deps.db);
  const generation = cache.generation;
  const [row] = await cache.lookups.run(() =>
    deps.db
      .select({ subscriber: subscribers, tokenId: apiTokens.id, lastUsedAt: apiTokens.lastUsedAt })
      .from(apiTokens)
      .innerJoin(subscribers, eq(apiTokens.subscriberId, subscribers.id))
      .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)))
      .limit(1),
  );
  if (!row || row.subscriber.status === "unsubscribed") {
    cache.entries.delete(hash);
    throw new AppError("UNAUTHORIZED", "the bearer token is not valid");
  }
  if (deps.clock) {
    const now = deps.clock.now();
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
      await cache.lookups.run(() =>
        deps.db
          .update(apiTokens)
          .set({ lastUsedAt: now })
          .where(
            and(
              eq(apiTokens.id, row.tokenId),
              or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, stale)),
            ),
          ),
      );
    }
  }
  const value = { subscriber: row.subscriber, tokenId: row.tokenId };
  if (cache.generation === generation) cache.set(hash, value);
  else cache.entries.delete(hash);
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
