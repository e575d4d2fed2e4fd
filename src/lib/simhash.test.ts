import { describe, expect, it } from "vitest";
import { hammingDistance, simhash, simhashBands } from "./simhash.ts";

const text =
  "Dockworkers at Rotterdam and Antwerp began a 72-hour strike on Thursday over plans to expand automated " +
  "cranes, unions said, and shipping lines warned of delays of up to a week for Asia-Europe cargo while " +
  "forwarders reported spot rates up about 20 percent since Monday for containers from Shanghai.";

describe("simhash", () => {
  it("is stable, and close for a lightly edited copy, far for another text", () => {
    expect(simhash(text)).toBe(simhash(text));
    expect(
      hammingDistance(simhash(text), simhash(text.replace("Thursday", "Thursday morning"))),
    ).toBeLessThanOrEqual(8);
    const other =
      "The European Central Bank held its deposit rate at 2 percent and signalled cuts early next year, sending Bund yields lower.";
    expect(hammingDistance(simhash(text), simhash(other))).toBeGreaterThan(12);
  });

  it("counts differing bits across both 32-bit halves", () => {
    expect(hammingDistance(0n, -1n)).toBe(64);
    expect(hammingDistance(1n, 1n | (1n << 40n))).toBe(1);
  });

  it("splits a hash into four 16-bit bands", () => {
    expect(simhashBands(0x0004000300020001n)).toEqual([1, 2, 3, 4]);
    expect(simhashBands(-1n)).toEqual([65535, 65535, 65535, 65535]);
  });
});
