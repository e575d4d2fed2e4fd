import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDb } from "../test/db.ts";
import { createTestDeps } from "../test/deps.ts";
import { createApp } from "./app.ts";
import type { DbHandle } from "./db/client.ts";
import { briefings } from "./db/schema/index.ts";
import { sampleFeedsDir } from "./deps.ts";
import { runIngest } from "./jobs/pipeline.ts";
import { seedSampleSources } from "./jobs/sample-data.ts";
import type { Logger } from "./lib/logger.ts";
import { generateBriefings } from "./modules/briefings/index.ts";
import { createSubscriber, listTokens, revokeToken, updateProfile } from "./modules/profiles/index.ts";

// A reader re-opening today's briefing is answered from memory by createApp's front, ahead of the
// full app's middleware (bench:api). These tests hold that it answers as the full app does: the
// first read goes down the full chain (nothing in memory yet), the later ones come from memory,
// told apart by the access log's fromMemory field.

type Line = Record<string, unknown>;
let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let lines: Line[];
let app: ReturnType<typeof createApp>;

function recordingLogger(into: Line[]): Logger {
  const record = (level: string) => (obj: object | string, msg?: string) =>
    into.push({ level, msg, ...(typeof obj === "string" ? { msg: obj } : obj) });
  const logger: Logger = {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
    child: () => logger,
  };
  return logger;
}

const now = "2026-11-27T06:30:00Z";
beforeAll(async () => {
  db = await createTestDb();
  lines = [];
  deps = await createTestDeps(db, { now, logger: recordingLogger(lines) });
  await seedSampleSources(deps, sampleFeedsDir);
  await runIngest(deps);
  app = createApp(deps);
});
afterAll(async () => {
  await db.close();
});

let readers = 0;
async function readerWithBriefing(timezone = "UTC") {
  const { subscriber, token } = await createSubscriber(deps, {
    email: `reader${++readers}@memory.example`,
    role: "CFO",
    industry: "Banking",
    timezone,
    deliveryTime: "06:00",
  });
  await generateBriefings(deps);
  return { subscriber, token };
}

const bearer = (token: string, more: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${token}`, ...more },
});
const requestLog = (res: Response) => lines.find((l) => l.requestId === res.headers.get("x-request-id"));
/** Everything an answer says but its request id, which is each request's own. */
async function answer(res: Response) {
  const headers = Object.fromEntries([...res.headers].filter(([k]) => k !== "x-request-id"));
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()).toString("base64") };
}

describe("today's briefing answered from memory", () => {
  it("answers as the full app does: body, ETag, gzip, 304, request id and log line", async () => {
    const { token } = await readerWithBriefing();
    const read = (more: Record<string, string> = {}) =>
      app.request("/v1/briefings/today", bearer(token, more));
    // A content type sends a request down the full app, cached or not.
    const readInFull = (more: Record<string, string> = {}) => read({ ...more, "content-type": "text/plain" });
    const first = await read();
    expect(requestLog(first)).toMatchObject({ route: "/v1/briefings/today", status: 200 });
    expect(requestLog(first)?.fromMemory).toBeUndefined();
    const etag = first.headers.get("etag")!;
    const variants: Record<string, string>[] = [{}, { "accept-encoding": "gzip" }, { "if-none-match": etag }];
    for (const asked of variants) {
      const fromMemory = await read(asked);
      const inFull = await readInFull(asked);
      expect(requestLog(fromMemory)).toMatchObject({ route: "/v1/briefings/today", fromMemory: true });
      expect(requestLog(inFull)?.fromMemory).toBeUndefined();
      expect(fromMemory.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(await answer(fromMemory)).toEqual(await answer(inFull));
    }
    const gzipped = await read({ "accept-encoding": "gzip" });
    expect(gzipped.headers.get("content-encoding")).toBe("gzip");
    const revalidated = await read({ "if-none-match": etag });
    expect(revalidated.status).toBe(304);
    expect(requestLog(revalidated)).toMatchObject({ status: 304, fromMemory: true });
    const given = await read({ "x-request-id": "app-42" });
    expect(given.headers.get("x-request-id")).toBe("app-42");
    expect(requestLog(given)).toMatchObject({ fromMemory: true });
  });

  it("spends the token's rate limit, and the full app answers 429 once it runs out", async () => {
    const limitedLines: Line[] = [];
    const limited = createApp(
      await createTestDeps(db, {
        now,
        logger: recordingLogger(limitedLines),
        env: { RATE_LIMIT_BURST: "3", RATE_LIMIT_PER_SECOND: "0.1" },
      }),
    );
    const { token } = await readerWithBriefing();
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await limited.request("/v1/briefings/today", bearer(token))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(limitedLines.filter((l) => l.msg === "request").map((l) => [l.status, l.fromMemory])).toEqual([
      [200, undefined],
      [200, true],
      [200, true],
      [429, undefined],
    ]);
  });

  it("refuses a token at once after it is revoked, though its reads were in memory", async () => {
    const { subscriber, token } = await readerWithBriefing();
    expect((await app.request("/v1/briefings/today", bearer(token))).status).toBe(200);
    expect((await app.request("/v1/briefings/today", bearer(token))).status).toBe(200);
    const [live] = await listTokens(deps, subscriber.id);
    await revokeToken(deps, subscriber.id, live!.id);
    const refused = await app.request("/v1/briefings/today", bearer(token));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
  });

  it("follows the reader's time zone: a move across midnight reads another day", async () => {
    const { subscriber, token } = await readerWithBriefing("UTC");
    expect((await app.request("/v1/briefings/today", bearer(token))).status).toBe(200);
    expect((await app.request("/v1/briefings/today", bearer(token))).status).toBe(200);
    // At 06:30 UTC it is still the 26th in Los Angeles, a day this reader has no briefing for.
    await updateProfile(deps, subscriber.id, { timezone: "America/Los_Angeles" });
    expect((await app.request("/v1/briefings/today", bearer(token))).status).toBe(404);
  });

  it("leaves requests with a body, other methods and other routes to the full app", async () => {
    const { token } = await readerWithBriefing();
    await app.request("/v1/briefings/today", bearer(token));
    const withBody = await app.request("/v1/briefings/today", {
      ...bearer(token, { "content-type": "application/json" }),
      method: "GET",
    });
    expect(withBody.status).toBe(200);
    expect(requestLog(withBody)?.fromMemory).toBeUndefined();
    const head = await app.request("/v1/briefings/today", { ...bearer(token), method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await app.request("/v1/briefings/today", { ...bearer(token), method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toContain("GET");
    expect((await app.request("/v1/briefings/today")).status).toBe(401);
    expect((await app.request("/healthz")).status).toBe(200);
  });

  it("keeps a reader who keeps reading in memory past the cache's life, and brings a rewrite", async () => {
    const { subscriber, token } = await readerWithBriefing();
    const read = () => app.request("/v1/briefings/today", bearer(token));
    const first = await read();
    const etag = first.headers.get("etag");
    // An operator's rebuild, seen as the briefing's answer changing (its generatedAt).
    await db.db
      .update(briefings)
      .set({ generatedAt: new Date("2026-11-27T06:20:00Z") })
      .where(eq(briefings.subscriberId, subscriber.id));
    try {
      // Past half the cache's life (2 to 2.5 minutes): still answered from memory, as it was,
      // while it is read again in the background (gathered for a quarter second).
      deps.clock.advance(2.6 * 60_000);
      const stale = await read();
      expect(requestLog(stale)).toMatchObject({ fromMemory: true });
      expect(stale.headers.get("etag")).toBe(etag);
      await vi.waitFor(
        async () => {
          const res = await read();
          expect(requestLog(res)).toMatchObject({ fromMemory: true });
          expect(res.headers.get("etag")).not.toBe(etag);
        },
        { timeout: 5_000, interval: 50 },
      );
      // Past the first life's end (at most 5 minutes): the reloaded entry answers.
      deps.clock.advance(2.6 * 60_000);
      expect(requestLog(await read())).toMatchObject({ fromMemory: true });
    } finally {
      deps.clock.set(now);
    }
  });
});
