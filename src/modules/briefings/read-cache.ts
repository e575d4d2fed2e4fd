import { AppError } from "../../lib/errors.ts";
import { ConcurrencyLimit } from "../../lib/rate-limit.ts";
import { SingleFlight } from "../../lib/single-flight.ts";
import { type TaggedJson, tagJson } from "../../lib/tagged-json.ts";

// A built briefing is rarely rewritten (an empty one replaced by a later build with items, an
// operator's rebuild), so its serialized answer is kept and the app's frequent re-reads cost no
// database work. Only found briefings are kept, so "404 before it exists" turns into 200 at once.
// An entry read after half its life is loaded again in the background while it keeps being
// served: a reader who keeps reading never waits for the database, and a rewrite reaches them
// within that half-life. Before, every entry simply expired: with 1,000 readers each reading every
// 0.1 s (bench:api's load), each expiry sent the reader back through the full app and the
// database, ~10,000 such reads in the seconds the reloads took, at 3-4 times the CPU of a read
// from memory. Lives are 4 to 5 minutes at random so briefings first read together are not all
// reloaded together.
export const BRIEFING_TTL_MS = 5 * 60_000;
const BRIEFING_CACHE_MAX = 5_000; // about 15 KB each, and 4 KB more once gzipped

type Kept = { tagged: TaggedJson; until: number; refreshAt: number; refreshing?: true };
/** After a reload that failed for a reason other than the briefing being gone. */
const RETRY_MS = 10_000;
type Load = () => Promise<unknown>;

/**
 * Serialized briefings by key (`subscriber:date` or `subscriber:id`). Times are milliseconds from
 * the caller's clock, so tests can move it.
 */
export function briefingReadCache(poolSize: number, nowMs: () => number) {
  const entries = new Map<string, Kept>();
  // Reads of a briefing that is being loaded wait for that load. When every reader opens the app
  // at once (the morning's push), each first read misses; without this, reads queued behind the
  // loads started their own: in bench:api's rush (1,000 readers, each first read sent 10 times at
  // once) 8,448 loads; 760-830 reads/s over its first 5 s against 4,300-4,700 with this.
  const flights = new SingleFlight<string, TaggedJson>();
  // Loads leave room in the pool for the rest of the app.
  const loads = new ConcurrencyLimit(Math.max(1, poolSize - 2));

  // Full: expired entries go (a reader's profile changed, yesterday's date), else the oldest;
  // never every reader's at once.
  const makeRoom = (now: number) => {
    for (const [k, e] of entries) if (e.until <= now) entries.delete(k);
    if (entries.size >= BRIEFING_CACHE_MAX) entries.delete(entries.keys().next().value!);
  };

  const loadAndKeep = async (key: string, load: Load) => keep(key, tagJson(await loads.run(load)));
  const keep = (key: string, fresh: TaggedJson) => {
    // An unchanged briefing keeps the object it had, and with it the gzip form made for it.
    const before = entries.get(key)?.tagged;
    const tagged = before?.etag === fresh.etag ? before : fresh;
    const now = nowMs();
    if (entries.size >= BRIEFING_CACHE_MAX && !entries.has(key)) makeRoom(now);
    const ttl = BRIEFING_TTL_MS * (0.8 + Math.random() / 5);
    entries.delete(key); // set again at the end: the Map's order is the entries' age
    entries.set(key, { tagged, until: now + ttl, refreshAt: now + ttl / 2 });
    return tagged;
  };

  /**
   * The kept answer, or undefined when there is none or it expired. With `reload`, an entry past
   * half its life is loaded again in the background. A reload that finds the briefing gone drops
   * it (the next read answers 404); one that fails otherwise (the database struggling) keeps it
   * served to its end and tries again RETRY_MS later, rather than sending every reader of a
   * failed batch to that database at once. Reloads do not queue behind the loads' limit: the
   * caller's reload may gather many into one query (a slot held while it gathers would cap its
   * batch at the limit); the default reload, `load` itself, does.
   */
  const kept = (key: string, now: number, reload?: Load): TaggedJson | undefined => {
    const hit = entries.get(key);
    if (!hit || hit.until <= now) return undefined;
    if (reload && hit.refreshAt <= now && !hit.refreshing) {
      hit.refreshing = true;
      flights
        .run(key, async () => keep(key, tagJson(await reload())))
        .catch((err) => {
          if (entries.get(key) !== hit) return;
          if (err instanceof AppError && err.code === "NOT_FOUND") entries.delete(key);
          else {
            hit.refreshing = undefined;
            hit.refreshAt = nowMs() + RETRY_MS;
          }
        });
    }
    return hit.tagged;
  };

  return {
    kept,
    /**
     * The kept answer (reloaded in the background with `reload`, by default `load`), or one load
     * shared by every read asking for it meanwhile.
     */
    read: (key: string, load: Load, reload: Load = () => loads.run(load)): Promise<TaggedJson> | TaggedJson =>
      kept(key, nowMs(), reload) ?? flights.run(key, () => loadAndKeep(key, load)),
  };
}
