import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "./circuit-breaker.ts";
import { retryAfterMs } from "./openai-client.ts";

describe("CircuitBreaker", () => {
  it("opens after the threshold of consecutive failures, lets one trial through after the cool-down, and closes on success", () => {
    let t = 0;
    const b = new CircuitBreaker({ threshold: 3, cooldownMs: 1000, now: () => t });
    b.failed();
    b.failed();
    b.succeeded(); // a success in between resets the count
    b.failed();
    b.failed();
    expect(b.state).toBe("closed");
    b.failed();
    expect(b.allows()).toBe(false);
    t = 999;
    expect(b.allows()).toBe(false);
    t = 1000;
    expect(b.allows()).toBe(true);
    b.failed(); // the trial failed: open again at once
    expect(b.allows()).toBe(false);
    t = 2000;
    b.succeeded();
    expect(b.state).toBe("closed");
    b.failed();
    expect(b.allows()).toBe(true);
  });
});

describe("retryAfterMs", () => {
  it("reads retry-after-ms, retry-after in seconds and as an HTTP date", () => {
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250" }))).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": "2" }))).toBe(2000);
    const now = Date.parse("2026-11-27T06:30:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "Fri, 27 Nov 2026 06:30:05 GMT" }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeNull();
    expect(retryAfterMs(new Headers())).toBeNull();
  });
});
