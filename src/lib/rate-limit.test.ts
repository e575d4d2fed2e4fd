import { describe, expect, it } from "vitest";
import { ConcurrencyLimit, RateLimiter } from "./rate-limit.ts";

describe("RateLimiter", () => {
  it("allows a burst, then refuses with the seconds until the next request, and refills over time", () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, () => now);
    expect([1, 2, 3].map(() => limiter.take("a").ok)).toEqual([true, true, true]);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take("b").ok).toBe(true);
    now += 500;
    expect(limiter.take("a").ok).toBe(true);
  });
});

describe("ConcurrencyLimit", () => {
  it("runs at most `limit` tasks at once, the rest in order as slots free, and frees a slot on failure", async () => {
    const limit = new ConcurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (n: number, fail = false) =>
      limit.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        order.push(n);
        if (fail) throw new Error("boom");
        return n;
      });
    const results = await Promise.allSettled([task(1, true), task(2), task(3), task(4), task(5)]);
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(results.map((r) => r.status)).toEqual([
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
  });
});
