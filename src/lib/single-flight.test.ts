import { describe, expect, it } from "vitest";
import { SingleFlight } from "./single-flight.ts";

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

describe("SingleFlight", () => {
  it("lets asks for a key share the running load, and starts a new one once it settled", async () => {
    const flights = new SingleFlight<string, number>();
    let loads = 0;
    const gate = deferred<number>();
    const load = () => {
      loads++;
      return gate.promise;
    };
    const asks = [flights.run("a", load), flights.run("a", load), flights.run("a", load)];
    gate.resolve(7);
    expect(await Promise.all(asks)).toEqual([7, 7, 7]);
    expect(loads).toBe(1);
    await flights.run("a", async () => 8);
    expect(await flights.run("a", async () => 9)).toBe(9);
  });

  it("shares a failure too, and frees the key after it", async () => {
    const flights = new SingleFlight<string, number>();
    const gate = deferred<number>();
    const asks = [flights.run("k", () => gate.promise), flights.run("k", () => gate.promise)];
    gate.reject(new Error("gone"));
    for (const a of asks) await expect(a).rejects.toThrow("gone");
    expect(await flights.run("k", async () => 1)).toBe(1);
  });

  it("after forgetAll, starts a new load, which the old one settling does not free", async () => {
    const flights = new SingleFlight<string, string>();
    const old = deferred<string>();
    const oldAsk = flights.run("t", () => old.promise);
    flights.forgetAll();
    const fresh = deferred<string>();
    const freshAsk = flights.run("t", () => fresh.promise);
    old.resolve("before");
    await oldAsk;
    let joined = 0;
    const joiner = flights.run("t", async () => {
      joined++;
      return "third";
    });
    fresh.resolve("after");
    expect(await freshAsk).toBe("after");
    expect(await joiner).toBe("after");
    expect(joined).toBe(0);
  });
});
