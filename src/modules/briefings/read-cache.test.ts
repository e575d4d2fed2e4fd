import { describe, expect, it } from "vitest";
import { notFound } from "../../lib/errors.ts";
import { BRIEFING_TTL_MS, briefingReadCache } from "./read-cache.ts";

// The read cache with a clock the test moves and loads the test answers itself: what a reader
// who keeps reading gets, and when the database is asked.

const HALF_LIFE_MAX = BRIEFING_TTL_MS / 2; // refreshAt is at most this far ahead
const LIFE_MIN = BRIEFING_TTL_MS * 0.8; // until is at least this far ahead

function setUp() {
  let now = 1_000_000;
  const cache = briefingReadCache(10, () => now);
  const loads: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  const load = () =>
    new Promise<unknown>((resolve, reject) => {
      loads.push({ resolve, reject });
    });
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    cache,
    load,
    loads,
    settle,
    at: (t: number) => {
      now = t;
    },
    get now() {
      return now;
    },
  };
}

describe("briefing read cache", () => {
  it("keeps serving an entry read after half its life and reloads it once in the background", async () => {
    const t = setUp();
    const first = t.cache.read("r1:2026-11-27", t.load);
    t.loads[0]!.resolve({ headline: "A" });
    const kept = await first;
    expect(t.cache.kept("r1:2026-11-27", t.now, t.load)).toBe(kept);
    expect(t.loads).toHaveLength(1);

    const start = t.now;
    t.at(start + HALF_LIFE_MAX + 1);
    // Served at once, twice, while one reload runs.
    expect(t.cache.kept("r1:2026-11-27", t.now, t.load)).toBe(kept);
    expect(t.cache.kept("r1:2026-11-27", t.now, t.load)).toBe(kept);
    expect(t.loads).toHaveLength(2);
    t.loads[1]!.resolve({ headline: "A" });
    await t.settle();

    // Past the first life's end the reloaded entry lives on; unchanged, it is the same object
    // (its gzip form, made once, goes with it).
    t.at(start + BRIEFING_TTL_MS + 1);
    expect(t.cache.kept("r1:2026-11-27", t.now)).toBe(kept);
    expect(t.loads).toHaveLength(2);
  });

  it("serves a rewritten briefing once the background reload has it", async () => {
    const t = setUp();
    const first = t.cache.read("r1:d", t.load);
    t.loads[0]!.resolve({ items: [] });
    const empty = await first;
    t.at(t.now + HALF_LIFE_MAX + 1);
    expect(t.cache.kept("r1:d", t.now, t.load)).toBe(empty);
    t.loads[1]!.resolve({ items: ["story"] });
    await t.settle();
    const rewritten = t.cache.kept("r1:d", t.now, t.load);
    expect(rewritten?.etag).not.toBe(empty.etag);
    expect(JSON.parse(Buffer.from(rewritten!.bytes).toString())).toEqual({ items: ["story"] });
  });

  it("keeps serving an entry whose reload failed (the database struggling), and tries again later", async () => {
    const t = setUp();
    const first = t.cache.read("r1:d", t.load);
    t.loads[0]!.resolve({ items: [] });
    const kept = await first;
    t.at(t.now + HALF_LIFE_MAX + 1);
    expect(t.cache.kept("r1:d", t.now, t.load)).toBe(kept);
    t.loads[1]!.reject(new Error("too many connections"));
    await t.settle();
    expect(t.cache.kept("r1:d", t.now, t.load)).toBe(kept);
    expect(t.loads).toHaveLength(2); // not again at once
    t.at(t.now + 10_001);
    expect(t.cache.kept("r1:d", t.now, t.load)).toBe(kept);
    expect(t.loads).toHaveLength(3);
  });

  it("drops an entry whose reload finds the briefing gone: the next read asks the database itself", async () => {
    const t = setUp();
    const first = t.cache.read("r1:d", t.load);
    t.loads[0]!.resolve({ items: [] });
    await first;
    t.at(t.now + HALF_LIFE_MAX + 1);
    expect(t.cache.kept("r1:d", t.now, t.load)).toBeDefined();
    t.loads[1]!.reject(notFound("briefing"));
    await t.settle();
    expect(t.cache.kept("r1:d", t.now, t.load)).toBeUndefined();
    const again = t.cache.read("r1:d", t.load);
    expect(t.loads).toHaveLength(3);
    t.loads[2]!.reject(new Error("not found"));
    await expect(again).rejects.toThrow("not found");
  });

  it("lets an entry nobody reads expire, without loading it again", async () => {
    const t = setUp();
    const first = t.cache.read("r1:d", t.load);
    t.loads[0]!.resolve({ items: [] });
    await first;
    t.at(t.now + BRIEFING_TTL_MS + 1);
    expect(t.cache.kept("r1:d", t.now, t.load)).toBeUndefined();
    expect(t.loads).toHaveLength(1);
  });

  it("does not reload before half its life, nor without a loader", async () => {
    const t = setUp();
    const first = t.cache.read("r1:d", t.load);
    t.loads[0]!.resolve({ items: [] });
    const kept = await first;
    const start = t.now;
    t.at(start + LIFE_MIN / 2 - 1); // refreshAt is at least 0.4 of the TTL ahead
    expect(t.cache.kept("r1:d", t.now, t.load)).toBe(kept);
    t.at(start + HALF_LIFE_MAX + 1);
    expect(t.cache.kept("r1:d", t.now)).toBe(kept);
    expect(t.loads).toHaveLength(1);
  });

  it("when full, lets expired entries go, else the oldest, never every reader's at once", async () => {
    let now = 1_000_000;
    const cache = briefingReadCache(10, () => now);
    const load = async () => ({ items: [] });
    for (let i = 0; i < 4_999; i++) await cache.read(`old:${i}`, load);
    now += 1_000;
    await cache.read("newer", load);
    // Full of live entries: one more drops only the oldest.
    await cache.read("one-more", load);
    expect(cache.kept("old:0", now)).toBeUndefined();
    expect(cache.kept("old:1", now)).toBeDefined();
    expect(cache.kept("newer", now)).toBeDefined();
    // The old ones expire first (their lives end at most 1 s apart from the newer's): they go.
    now += BRIEFING_TTL_MS * 0.8 - 1_000 + 1;
    const stillLive = ["newer", "one-more"].filter((k) => cache.kept(k, now));
    await cache.read("after", load);
    expect(cache.kept("after", now)).toBeDefined();
    for (const k of stillLive) expect(cache.kept(k, now)).toBeDefined();
  });
});
