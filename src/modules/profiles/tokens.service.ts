import DataLoader from "dataloader";
import { and, desc, eq, inArray, isNull, lt, or } from "drizzle-orm";
import { apiTokens, subscribers } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { AppError, notFound } from "../../lib/errors.ts";
import { ConcurrencyLimit } from "../../lib/rate-limit.ts";
import { SingleFlight } from "../../lib/single-flight.ts";
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
// Background re-reads wait this long to share one query: one query per token (and drizzle's query
// building, ~0.3 ms of CPU each) cost a busy API server a tenth of its CPU with 1,000 readers.
const REFRESH_GATHER_MS = 250;
// Bounded so that mapping one answer never holds the event loop for long (p99 of other requests).
const LOOKUP_BATCH_MAX = 100;

type Entry = Authenticated & { until: number; refreshAt: number; refreshing?: boolean };
type Db = Deps["db"];
/** A lookup: the token's hash and, when the caller has a clock, the time to record as its use. */
type Lookup = { hash: string; now?: Date };
type Found = { subscriber: Subscriber; tokenId: string } | null;

/**
 * The live tokens among `lookups` with their subscribers, in one query, and their lastUsedAt
 * moved forward (one update) where it is older than the resolution.
 */
async function findTokens(db: Db, lookups: readonly Lookup[]): Promise<Found[]> {
  const hashes = [...new Set(lookups.map((l) => l.hash))];
  const rows = await db
    .select({
      subscriber: subscribers,
      tokenId: apiTokens.id,
      tokenHash: apiTokens.tokenHash,
      lastUsedAt: apiTokens.lastUsedAt,
    })
    .from(apiTokens)
    .innerJoin(subscribers, eq(apiTokens.subscriberId, subscribers.id))
    .where(and(inArray(apiTokens.tokenHash, hashes), isNull(apiTokens.revokedAt)));
  const byHash = new Map(rows.map((r) => [r.tokenHash, r]));
  const nows = lookups.flatMap((l) => (l.now ? [l.now.getTime()] : []));
  if (nows.length > 0) {
    const now = new Date(Math.max(...nows));
    const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
    const due = rows.filter((r) => !r.lastUsedAt || r.lastUsedAt < stale).map((r) => r.tokenId);
    if (due.length > 0) {
      await db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(
          and(inArray(apiTokens.id, due), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, stale))),
        );
    }
  }
  return lookups.map((l) => {
    const row = byHash.get(l.hash);
    return row ? { subscriber: row.subscriber, tokenId: row.tokenId } : null;
  });
}

/** Recently authenticated tokens by hash, per database: processes and test databases never share one. */
class AuthCache {
  readonly entries = new Map<string, Entry>();
  // Bumped by every forget: a lookup that began before a revocation must not cache what it read.
  generation = 0;
  // Lookups share the pool with everything else: a burst of cold tokens must not flood it.
  private readonly limit = new ConcurrencyLimit(4);
  /** Tokens not in memory: those asked within one tick share a query (dataloader batches them). */
  readonly cold: DataLoader<Lookup, Found>;
  /** Re-reads of tokens in use, gathered for REFRESH_GATHER_MS. */
  readonly refresh: DataLoader<Lookup, Found>;
  // Requests for a token already being looked up wait for that lookup. When every reader opens the
  // app at once, reads queued behind the lookups started their own: 6,671 lookups and 1,649
  // lastUsedAt updates for 1,000 readers in bench:api's rush.
  readonly lookups = new SingleFlight<string, Found>();

  constructor(db: Db) {
    const batch = (lookups: readonly Lookup[]) => this.limit.run(() => findTokens(db, lookups));
    this.cold = new DataLoader(batch, { cache: false, maxBatchSize: LOOKUP_BATCH_MAX });
    this.refresh = new DataLoader(batch, {
      cache: false,
      maxBatchSize: LOOKUP_BATCH_MAX,
      batchScheduleFn: (run) => setTimeout(run, REFRESH_GATHER_MS),
    });
  }
  set(hash: string, value: Authenticated) {
    if (this.entries.size >= AUTH_CACHE_MAX) this.entries.clear(); // bounded under a flood of tokens
    const now = performance.now();
    // Jittered, so tokens first seen together are not all looked up again together.
    const ttl = AUTH_TTL_MS * (0.75 + Math.random() / 4);
    this.entries.set(hash, { ...value, until: now + ttl, refreshAt: now + ttl / 2 });
  }
  forget(match: (e: Authenticated) => boolean) {
    this.generation++;
    // A lookup in flight may have read the token before it was revoked: later requests ask again.
    this.lookups.forgetAll();
    for (const [hash, e] of this.entries) if (match(e)) this.entries.delete(hash);
  }
}
const caches = new WeakMap<object, AuthCache>();
function cacheOf(db: Db): AuthCache {
  let cache = caches.get(db);
  if (!cache) {
    cache = new AuthCache(db);
    caches.set(db, cache);
  }
  return cache;
}

/** Drops a subscriber's cached authentications: their profile or status changed. */
export function forgetSubscriberAuth(deps: Pick<Deps, "db">, subscriberId: string) {
  cacheOf(deps.db).forget((e) => e.subscriber.id === subscriberId);
}

/**
 * The subscriber and token a bearer token names when this process has them in memory, without
 * waiting: for the hot read path and for the auth middleware's common case. A token in use is
 * refreshed in the background once half its TTL has passed.
 */
export function knownToken(
  deps: Pick<Deps, "db"> & Partial<Pick<Deps, "clock">>,
  token: string,
): Authenticated | undefined {
  return knownHash(deps, hashToken(token));
}

function knownHash(deps: Pick<Deps, "db"> & Partial<Pick<Deps, "clock">>, hash: string) {
  const cache = cacheOf(deps.db);
  const cached = cache.entries.get(hash);
  const now = performance.now();
  if (!cached || cached.until <= now) return undefined;
  if (cached.refreshAt <= now && !cached.refreshing) {
    cached.refreshing = true;
    // A failed or refused lookup drops the entry: the next request asks the database itself.
    lookUp(cache, (k) => cache.refresh.load(k), lookupKey(deps, hash)).catch(() =>
      cache.entries.delete(hash),
    );
  }
  return cached;
}

/**
 * The subscriber and token a bearer token names; revoked and unknown tokens are refused alike.
 * Answered without a promise when the token is in memory: the app's most common case, which an
 * await would put behind a microtask.
 */
export function authenticateToken(
  deps: Pick<Deps, "db"> & Partial<Pick<Deps, "clock">>,
  token: string,
): Authenticated | Promise<Authenticated> {
  const hash = hashToken(token);
  const known = knownHash(deps, hash);
  if (known) return known;
  const cache = cacheOf(deps.db);
  return lookUp(cache, (k) => cache.lookups.run(k.hash, () => cache.cold.load(k)), lookupKey(deps, hash));
}

const lookupKey = (deps: Partial<Pick<Deps, "clock">>, hash: string): Lookup =>
  deps.clock ? { hash, now: deps.clock.now() } : { hash };

async function lookUp(
  cache: AuthCache,
  load: (key: Lookup) => Promise<Found>,
  key: Lookup,
): Promise<Authenticated> {
  const { hash } = key;
  const generation = cache.generation;
  const found = await load(key);
  if (!found || found.subscriber.status === "unsubscribed") {
    cache.entries.delete(hash);
    throw new AppError("UNAUTHORIZED", "the bearer token is not valid");
  }
  if (cache.generation === generation) cache.set(hash, found);
  else cache.entries.delete(hash);
  return found;
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
