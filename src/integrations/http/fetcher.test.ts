import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, streamBytes, type TestHttpServer } from "../../../test/http-server.ts";
import { createHttpFetcher, type HttpFetcherOptions } from "./fetcher.ts";

const FEED = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>';

// Loopback allowed, no politeness delay, immediate retries: the guards under test are set per test.
const fetcherFor = (overrides: Partial<HttpFetcherOptions> = {}) =>
  createHttpFetcher({ userAgent: "test", allowPrivate: true, hostDelayMs: 0, retryDelayMs: 0, ...overrides });

let server: TestHttpServer;
let inFlight = 0;
let maxInFlight = 0;
const hits = new Map<string, number>();
const hit = (key: string) => {
  const n = (hits.get(key) ?? 0) + 1;
  hits.set(key, n);
  return n;
};

beforeAll(async () => {
  server = await startHttpServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    if (path === "/etag") {
      if (req.headers["if-none-match"] === '"v1"') return void res.writeHead(304).end();
      return void res.writeHead(200, { etag: '"v1"', "content-type": "application/rss+xml" }).end(FEED);
    }
    if (path === "/last-modified") {
      const stamp = "Wed, 25 Nov 2026 10:00:00 GMT";
      if (req.headers["if-modified-since"] === stamp) return void res.writeHead(304).end();
      return void res.writeHead(200, { "last-modified": stamp }).end(FEED);
    }
    if (path === "/gzip") return void res.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync(FEED));
    if (path === "/br")
      return void res.writeHead(200, { "content-encoding": "br" }).end(brotliCompressSync(FEED));
    if (path === "/gzip-bomb") {
      const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024));
      return void res.writeHead(200, { "content-encoding": "gzip", "content-length": bomb.length }).end(bomb);
    }
    if (path === "/declared-large") {
      return void res.writeHead(200, { "content-length": 5000 }).end(Buffer.alloc(5000, 0x61));
    }
    if (path === "/endless") {
      res.writeHead(200, { "content-type": "application/rss+xml" });
      const written = await streamBytes(res, 50 * 1024 * 1024, Buffer.alloc(16 * 1024, 0x61));
      hits.set("endless-written", written);
      return;
    }
    if (path.startsWith("/hop/")) {
      const n = Number(path.slice(5));
      if (n === 0) return void res.writeHead(200).end("arrived");
      return void res.writeHead(302, { location: `/hop/${n - 1}` }).end();
    }
    if (path === "/to") return void res.writeHead(302, { location: url.searchParams.get("target")! }).end();
    if (path === "/silent") return; // never answers
    if (path === "/trickle") {
      res.writeHead(200);
      const t = setInterval(() => res.write("a"), 20);
      res.on("close", () => clearInterval(t));
      return;
    }
    if (path === "/flaky-503") {
      const n = hit(`${path}${url.search}`);
      if (n <= Number(url.searchParams.get("fail"))) return void res.writeHead(503).end("busy");
      return void res.writeHead(200).end(`ok after ${n}`);
    }
    if (path === "/retry-after") {
      const n = hit(`${path}${url.search}`);
      if (n === 1) return void res.writeHead(429, { "retry-after": url.searchParams.get("s")! }).end();
      return void res.writeHead(200).end("ok");
    }
    if (path === "/reset-once") {
      if (hit(path) === 1) return void req.socket.destroy();
      return void res.writeHead(200).end("ok after reset");
    }
    if (path === "/cut-body") {
      hit(path);
      res.writeHead(200, { "content-length": 1000 });
      res.write("only the start");
      return void setTimeout(() => req.socket.destroy(), 10);
    }
    if (path === "/missing") {
      hit(path);
      return void res.writeHead(404).end("no");
    }
    if (path === "/slow") {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 40));
      inFlight--;
      return void res.writeHead(200).end("slow");
    }
    if (path === "/plain") return void res.writeHead(200).end("plain");
    res.writeHead(404).end();
  });
});
afterAll(async () => {
  await server.close();
});

const countOf = (path: string) => server.requests.filter((r) => r.path === path).length;

describe("conditional GET", () => {
  it("sends the stored ETag as If-None-Match and reports a 304 as not modified", async () => {
    const f = fetcherFor();
    const first = await f.get({ url: server.url("/etag") });
    expect(first).toMatchObject({ status: 200, etag: '"v1"', notModified: false });
    expect(first.body.toString()).toBe(FEED);
    const again = await f.get({ url: server.url("/etag"), etag: first.etag });
    expect(again).toMatchObject({ status: 304, notModified: true });
    expect(again.body.length).toBe(0);
  });

  it("sends the stored Last-Modified as If-Modified-Since and reports a 304 as not modified", async () => {
    const f = fetcherFor();
    const first = await f.get({ url: server.url("/last-modified") });
    expect(first.lastModified).toBe("Wed, 25 Nov 2026 10:00:00 GMT");
    const again = await f.get({ url: server.url("/last-modified"), lastModified: first.lastModified });
    expect(again.notModified).toBe(true);
  });
});

describe("bodies", () => {
  it("decompresses a gzip body", async () => {
    const r = await fetcherFor().get({ url: server.url("/gzip") });
    expect(r.body.toString()).toBe(FEED);
  });

  it("decompresses a brotli body", async () => {
    const r = await fetcherFor().get({ url: server.url("/br") });
    expect(r.body.toString()).toBe(FEED);
  });

  it("refuses a body whose Content-Length is over the cap without reading it", async () => {
    await expect(fetcherFor({ maxBytes: 1000 }).get({ url: server.url("/declared-large") })).rejects.toThrow(
      "response too large: over 1000 bytes",
    );
  });

  it("cuts off a chunked body without Content-Length once it passes the cap, and the server stops sending", async () => {
    await expect(fetcherFor({ maxBytes: 64 * 1024 }).get({ url: server.url("/endless") })).rejects.toThrow(
      "response too large: over 65536 bytes",
    );
    await expect.poll(() => hits.get("endless-written")).toBeDefined();
    expect(hits.get("endless-written")!).toBeLessThan(50 * 1024 * 1024);
  });

  it("counts the cap after decompression, so a gzip bomb is refused", async () => {
    await expect(
      fetcherFor({ maxBytes: 1024 * 1024 }).get({ url: server.url("/gzip-bomb") }),
    ).rejects.toThrow("response too large: over 1048576 bytes");
  });
});

describe("redirects", () => {
  it("follows redirects up to the limit and reports the final URL", async () => {
    const r = await fetcherFor({ maxRedirects: 3 }).get({ url: server.url("/hop/3") });
    expect(r.body.toString()).toBe("arrived");
    expect(r.url).toBe(server.url("/hop/0"));
  });

  it("refuses one redirect more than the limit", async () => {
    await expect(fetcherFor({ maxRedirects: 3 }).get({ url: server.url("/hop/4") })).rejects.toThrow(
      "too many redirects (over 3)",
    );
  });

  it("refuses a redirect to a non-http scheme", async () => {
    const url = server.url(`/to?target=${encodeURIComponent("file:///etc/passwd")}`);
    await expect(fetcherFor().get({ url })).rejects.toThrow("unsupported URL scheme file:");
  });
});

describe("private addresses", () => {
  // The test server is loopback: allowHosts admits it, and nothing else private.
  const guarded = () => fetcherFor({ allowPrivate: false, allowHosts: ["127.0.0.1"] });

  it("fetches a private host named in allowHosts", async () => {
    const r = await guarded().get({ url: server.url("/plain") });
    expect(r.body.toString()).toBe("plain");
  });

  it.each([
    ["http://169.254.169.254/latest/meta-data/", "refused to fetch 169.254.169.254: private address"],
    ["http://10.0.0.1/", "refused to fetch 10.0.0.1: private address"],
    ["http://[::ffff:127.0.0.1]/", "refused to fetch ::ffff:7f00:1: private address"],
  ])("refuses a redirect from an allowed host to %s", async (target, message) => {
    const url = server.url(`/to?target=${encodeURIComponent(target)}`);
    await expect(guarded().get({ url })).rejects.toThrow(message);
  });

  it("refuses a redirect to a hostname that resolves to a private address, checked after DNS", async () => {
    const before = countOf("/plain");
    const target = server.url("/plain").replace("127.0.0.1", "localhost");
    const url = server.url(`/to?target=${encodeURIComponent(target)}`);
    await expect(guarded().get({ url })).rejects.toThrow(
      /refused to fetch localhost: it resolves to a private address/,
    );
    expect(countOf("/plain")).toBe(before);
  });

  it("refuses loopback by default, before any request is sent", async () => {
    const before = server.requests.length;
    const f = createHttpFetcher({ userAgent: "test" });
    await expect(f.get({ url: server.url("/plain") })).rejects.toThrow(
      "refused to fetch 127.0.0.1: private address",
    );
    const mapped = server.url("/plain").replace("127.0.0.1", "[::ffff:127.0.0.1]");
    await expect(f.get({ url: mapped })).rejects.toThrow("private address");
    expect(server.requests.length).toBe(before);
  });
});

describe("timeouts and retries", () => {
  it("gives up on a server that never answers", async () => {
    await expect(
      fetcherFor({ timeoutMs: 100, retries: 0 }).get({ url: server.url("/silent") }),
    ).rejects.toThrow("timed out after 100 ms");
  });

  it("does not try a server that let the whole deadline pass again in the same run", async () => {
    const before = server.requests.length;
    await expect(
      fetcherFor({ timeoutMs: 100, retries: 2, retryDelayMs: 1 }).get({ url: server.url("/silent") }),
    ).rejects.toThrow("timed out after 100 ms");
    expect(server.requests.length - before).toBe(1);
  });

  it("gives up on a body that trickles in past the deadline", async () => {
    await expect(
      fetcherFor({ timeoutMs: 100, retries: 0 }).get({ url: server.url("/trickle") }),
    ).rejects.toThrow("timed out after 100 ms");
  });

  it("retries a 503 and returns the success that follows", async () => {
    const r = await fetcherFor({ retries: 2 }).get({ url: server.url("/flaky-503?fail=2") });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe("ok after 3");
  });

  it("returns the last 503 once the retries are used up", async () => {
    const r = await fetcherFor({ retries: 2 }).get({ url: server.url("/flaky-503?fail=9") });
    expect(r.status).toBe(503);
    expect(countOf("/flaky-503?fail=9")).toBe(3);
  });

  it("waits as long as Retry-After asks when it is within the cap", async () => {
    const r = await fetcherFor().get({ url: server.url("/retry-after?s=0") });
    expect(r.status).toBe(200);
    expect(countOf("/retry-after?s=0")).toBe(2);
  });

  it("does not retry when Retry-After asks for longer than the cap", async () => {
    const r = await fetcherFor({ maxRetryAfterMs: 5000 }).get({ url: server.url("/retry-after?s=3600") });
    expect(r.status).toBe(429);
    expect(countOf("/retry-after?s=3600")).toBe(1);
  });

  it("does not retry a 404", async () => {
    const r = await fetcherFor({ retries: 2 }).get({ url: server.url("/missing") });
    expect(r.status).toBe(404);
    expect(countOf("/missing")).toBe(1);
  });

  it("retries a connection reset", async () => {
    const r = await fetcherFor({ retries: 1 }).get({ url: server.url("/reset-once") });
    expect(r.body.toString()).toBe("ok after reset");
    expect(countOf("/reset-once")).toBe(2);
  });

  it("retries a body cut off mid-way, then fails when it keeps happening", async () => {
    await expect(fetcherFor({ retries: 1 }).get({ url: server.url("/cut-body") })).rejects.toThrow(
      "the connection closed before the body was complete",
    );
    expect(countOf("/cut-body")).toBe(2);
  });

  it("retries a refused connection and then reports it", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(fetcherFor({ retries: 1 }).get({ url: `http://127.0.0.1:${port}/` })).rejects.toThrow(
      "ECONNREFUSED",
    );
  });
});

describe("politeness", () => {
  it("keeps at most two requests in flight to one host by default", async () => {
    maxInFlight = 0;
    const f = fetcherFor();
    const all = await Promise.all(Array.from({ length: 6 }, () => f.get({ url: server.url("/slow") })));
    expect(all.every((r) => r.status === 200)).toBe(true);
    expect(maxInFlight).toBe(2);
  });

  it("keeps to a configured limit of one request in flight per host", async () => {
    maxInFlight = 0;
    const f = fetcherFor({ perHostConcurrency: 1 });
    await Promise.all(Array.from({ length: 3 }, () => f.get({ url: server.url("/slow") })));
    expect(maxInFlight).toBe(1);
  });

  it("spaces the starts of requests to one host by the politeness delay", async () => {
    // Loopback is a private host: its own delay is set here so the spacing can be seen.
    const f = fetcherFor({ hostDelayMs: 100, privateHostDelayMs: 100 });
    const from = server.requests.length;
    const calledAt = performance.now();
    await Promise.all([1, 2, 3].map(() => f.get({ url: server.url("/plain") })));
    const arrivals = server.requests.slice(from).map((r) => r.at - calledAt);
    // Lower bounds only: the third request cannot start before two delays have passed.
    expect(arrivals[1]!).toBeGreaterThanOrEqual(95);
    expect(arrivals[2]!).toBeGreaterThanOrEqual(195);
  });

  it("does not space requests to a private address reached by permission (one's own server)", async () => {
    // A 10 s politeness delay would hold the third request 20 s: it does not apply here.
    const f = fetcherFor({ hostDelayMs: 10_000 });
    const calledAt = performance.now();
    await Promise.all([1, 2, 3].map(() => f.get({ url: server.url("/plain") })));
    expect(performance.now() - calledAt).toBeLessThan(5_000);
  });
});
