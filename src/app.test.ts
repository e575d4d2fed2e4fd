import { get as httpGet } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { gunzipSync } from "node:zlib";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../test/db.ts";
import { ADMIN_TOKEN, createTestDeps } from "../test/deps.ts";
import { createApp } from "./app.ts";
import type { DbHandle } from "./db/client.ts";
import { migrationsCurrent, shippedMigrations } from "./db/migrate.ts";
import { sampleFeedsDir } from "./deps.ts";
import { seedSampleSources } from "./jobs/sample-data.ts";
import { RENAMED_ZONES } from "./lib/time.ts";
import { claimDueDeliveries } from "./modules/delivery/index.ts";
import { updateProfile } from "./modules/profiles/index.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;

const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
const as = (token: string) => ({ authorization: `Bearer ${token}` });

const profile = (email: string) => ({
  email,
  name: "Sam",
  role: "CFO",
  industry: "Banking",
  interests: ["interest rates"],
  timezone: "Europe/Berlin",
  deliveryTime: "07:00",
});

async function createSubscriber(email: string) {
  const res = await app.request("/admin/subscribers", {
    method: "POST",
    headers: admin,
    body: JSON.stringify(profile(email)),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

beforeAll(async () => {
  db = await createTestDb();
  deps = await createTestDeps(db, { now: "2026-11-27T06:30:00Z" });
  app = createApp(deps);
  await seedSampleSources(deps, sampleFeedsDir);
});
afterAll(async () => {
  await db.close();
});

describe("operations", () => {
  it("answers /healthz and /readyz", async () => {
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/readyz")).status).toBe(200);
  });

  it("compresses answers for clients that accept gzip", async () => {
    const plain = await app.request("/openapi.json");
    const gzipped = await app.request("/openapi.json", { headers: { "accept-encoding": "gzip" } });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(gzipped.headers.get("content-encoding")).toBe("gzip");
  });

  it("is not ready while the database lacks a migration this build ships", async () => {
    expect(await migrationsCurrent(deps.db, shippedMigrations() + 1)).toBe(false);
    expect(await migrationsCurrent(deps.db)).toBe(true);
  });

  it("serves an OpenAPI 3.1 document listing the contract's routes", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { openapi: string; paths: object };
    expect(doc.openapi).toBe("3.1.0");
    for (const p of [
      "/admin/subscribers",
      "/admin/ingest",
      "/admin/briefings",
      "/v1/briefings/today",
      "/v1/me",
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });

  it("answers 401 with the scheme it takes (WWW-Authenticate: Bearer) and problem titles in the statuses' own words", async () => {
    const res = await app.request("/v1/me");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="daybreak"');
    expect(await (await app.request("/nowhere")).json()).toMatchObject({ status: 404, title: "Not Found" });
  });

  it("documents the answers middleware gives: 429 with Retry-After on /v1 routes, 413 and 415 where a body is taken", async () => {
    type Op = { responses: Record<string, { headers?: Record<string, unknown> }> };
    const doc = (await (await app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, Op>>;
    };
    const me = doc.paths["/v1/me"]!;
    expect(Object.keys(me.get!.responses)).toContain("429");
    expect(me.get!.responses["429"]!.headers).toHaveProperty("Retry-After");
    expect(Object.keys(me.patch!.responses)).toEqual(expect.arrayContaining(["413", "415", "429"]));
    expect(Object.keys(doc.paths["/admin/subscribers"]!.post!.responses)).toEqual(
      expect.arrayContaining(["413", "415"]),
    );
    expect(Object.keys(doc.paths["/healthz"]!.get!.responses)).not.toContain("429");
  });

  it("serves Prometheus metrics and a documentation page", async () => {
    const metrics = await app.request("/metrics");
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^daybreak_articles_total \d+$/m);
    const docs = await app.request("/docs");
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("/v1/briefings/today");
  });

  it("answers an unknown path with a problem document", async () => {
    const res = await app.request("/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("a client that closes mid-body", () => {
  it("is logged as gone, not as an error of ours", async () => {
    const lines: { level: string; msg?: string }[] = [];
    const record =
      (level: string) =>
      (_obj: object | string, msg?: string): void => {
        lines.push({ level, msg });
      };
    const logger = {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
      child: () => logger,
    };
    const watched = createApp(await createTestDeps(db, { logger }));
    const server = serve({ fetch: watched.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((r) => server.once("listening", r));
    try {
      const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
      await new Promise((r) => socket.once("connect", r));
      socket.write(
        'POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":',
      );
      await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
      await expect.poll(() => lines.some((l) => l.msg === "client went away"), { timeout: 2_000 }).toBe(true);
      expect(lines.filter((l) => l.level === "error")).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After once a token spends its burst, without touching other tokens", async () => {
    const limited = createApp(
      await createTestDeps(db, { env: { RATE_LIMIT_BURST: "2", RATE_LIMIT_PER_SECOND: "0.1" } }),
    );
    const { token } = await createSubscriber("limited@example.com");
    const { token: other } = await createSubscriber("unlimited@example.com");
    expect((await limited.request("/v1/me", { headers: as(token) })).status).toBe(200);
    expect((await limited.request("/v1/me", { headers: as(token) })).status).toBe(200);
    const refused = await limited.request("/v1/me", { headers: as(token) });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await limited.request("/v1/me", { headers: as(other) })).status).toBe(200);
  });
});

describe("POST /admin/subscribers", () => {
  it("creates a subscriber and shows a token of at least 128 bits once", async () => {
    const created = await createSubscriber("cfo@example.com");
    expect(created.token.length).toBeGreaterThanOrEqual(26);
    const me = await app.request("/v1/me", { headers: as(created.token) });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { email: string }).email).toBe("cfo@example.com");
  });

  it("takes an address at an internationalized domain, in its ASCII form; a non-ASCII local part is refused", async () => {
    const created = await createSubscriber("leser@Müller.de");
    const me = await app.request("/v1/me", { headers: as(created.token) });
    expect(((await me.json()) as { email: string }).email).toBe("leser@xn--mller-kva.de");
    const refused = await app.request("/admin/subscribers", {
      method: "POST",
      headers: admin,
      body: JSON.stringify(profile("jürgen@example.com")),
    });
    expect(refused.status).toBe(400);
  });

  it("rejects a bad profile naming each bad field", async () => {
    const res = await app.request("/admin/subscribers", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        ...profile("x@example.com"),
        timezone: "Mars/Olympus",
        deliveryTime: "7am",
        email: "nope",
      }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = (await res.json()) as { errors: { location: string }[]; requestId: string };
    const locations = body.errors.map((e) => e.location);
    expect(locations).toEqual(expect.arrayContaining(["body.email", "body.timezone", "body.deliveryTime"]));
    expect(body.requestId).toBeTruthy();
  });

  it("rejects a body that is not JSON", async () => {
    const res = await app.request("/admin/subscribers", {
      method: "POST",
      headers: admin,
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errors: [{ location: "body" }] });
  });

  it("answers 409 for an email already subscribed, whatever its case", async () => {
    await createSubscriber("dup@example.com");
    const res = await app.request("/admin/subscribers", {
      method: "POST",
      headers: admin,
      body: JSON.stringify(profile("DUP@example.com")),
    });
    expect(res.status).toBe(409);
  });

  it("stores a time zone under its canonical name and refuses one deliveries cannot be planned in", async () => {
    // PostgreSQL computes every local delivery time: a zone only Node knew ("US/Pacific-New")
    // once failed the planner for every subscriber.
    // Renamed zones under their current names (Intl resolves them to the old ones), every one of
    // which the database knows.
    const zones = {
      "europe/london": "Europe/London",
      "US/Pacific-New": "America/Los_Angeles",
      ...RENAMED_ZONES,
    };
    for (const [given, stored] of Object.entries(zones)) {
      const res = await app.request("/admin/subscribers", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({
          ...profile(`zone-${stored.replaceAll("/", "-")}@example.com`),
          timezone: given,
        }),
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ timezone: stored });
    }
    const offset = await app.request("/admin/subscribers", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ ...profile("offset@example.com"), timezone: "+05:30" }),
    });
    expect(offset.status).toBe(400);
    expect(await offset.json()).toMatchObject({ errors: [{ location: "body.timezone" }] });
    // Past the schema (a caller inside the process), the database's own check refuses it.
    const { id } = await createSubscriber("zone-check@example.com");
    await expect(updateProfile(deps, id, { timezone: "Mars/Olympus" })).rejects.toMatchObject({
      code: "VALIDATION",
      errors: [{ location: "body.timezone" }],
    });
    expect(await claimDueDeliveries(deps)).toEqual(expect.any(Array));
  });

  it("refuses requests without the admin token", async () => {
    const res = await app.request("/admin/subscribers", {
      method: "POST",
      headers: { "content-type": "application/json", ...as("wrong-token-wrong-token") },
      body: JSON.stringify(profile("y@example.com")),
    });
    expect(res.status).toBe(401);
    // A wrong token is told apart from a missing one.
    expect(((await res.json()) as { detail: string }).detail).toBe("the admin token is not valid");
    const none = await app.request("/admin/sources");
    expect(((await none.json()) as { detail: string }).detail).toBe("admin bearer token required");
  });
});

describe("POST /admin/articles", () => {
  const text =
    "The Port of Valmora reopened on Friday after a three-day closure caused by a cyberattack on its booking " +
    "systems, the port authority said. Shipping lines said the backlog of containers would take a week to clear.";

  it("stores a pushed article, groups it into a story, and knows it the second time", async () => {
    const body = {
      url: "https://push.example/valmora-reopens?utm_source=x",
      title: "Valmora port reopens after cyberattack",
      text,
    };
    const first = await app.request("/admin/articles", {
      method: "POST",
      headers: admin,
      body: JSON.stringify(body),
    });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ status: "added", stories: 1 });
    const again = await app.request("/admin/articles", {
      method: "POST",
      headers: admin,
      body: JSON.stringify(body),
    });
    expect(again.status).toBe(200); // nothing created
    expect(await again.json()).toMatchObject({ status: "duplicate", articleId: null });
  });

  it("rejects a submission without text or with a non-http URL, naming the fields", async () => {
    const res = await app.request("/admin/articles", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ url: "ftp://x.example/a", title: "T" }),
    });
    expect(res.status).toBe(400);
    const locations = ((await res.json()) as { errors: { location: string }[] }).errors.map(
      (e) => e.location,
    );
    expect(locations).toEqual(expect.arrayContaining(["body.url", "body.text"]));
  });

  it("refuses an outlet or author that is not one line of text, naming the field; a blank author is none", async () => {
    const post = (extra: object) =>
      app.request("/admin/articles", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ url: "https://push.example/outlet", title: "Title", text, ...extra }),
      });
    const res = await post({ outlet: "Bad\noutlet\u202e", author: "A\r\nBcc: x@y.example" });
    expect(res.status).toBe(400);
    const errors = ((await res.json()) as { errors: { location: string; message: string }[] }).errors;
    expect(errors.map((e) => e.location).sort()).toEqual(["body.author", "body.outlet"]);
    expect(errors[0]!.message).toMatch(/one line of text/);
    expect((await post({ outlet: "Push Wire", author: "  " })).status).toBe(201);
  });

  it("keeps plain text as written ('<10%', 'x<y', '&notanentity;') and reads markup as markup", async () => {
    const plain =
      "Acme said profits rose by <10% while costs fell and x<y held for most quarters. Analysts said a<b was expected; &notanentity; stays.";
    const post = (url: string, body: string, title: string) =>
      app.request("/admin/articles", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ url, title, text: body }),
      });
    expect((await post("https://push.example/plain", plain, "Profits: 5 < 6")).status).toBe(201);
    expect(
      (await post("https://push.example/html", `<p>${text}</p><script>x()</script>`, "<b>Port</b> news"))
        .status,
    ).toBe(201);
    const { articles } = await import("./db/schema/index.ts");
    const { inArray } = await import("drizzle-orm");
    const rows = await deps.db
      .select({ url: articles.url, title: articles.title, content: articles.content })
      .from(articles)
      .where(inArray(articles.url, ["https://push.example/plain", "https://push.example/html"]));
    const byUrl = new Map(rows.map((r) => [r.url, r]));
    expect(byUrl.get("https://push.example/plain")).toMatchObject({
      title: "Profits: 5 < 6",
      content: plain,
    });
    expect(byUrl.get("https://push.example/html")).toMatchObject({ title: "Port news", content: text });
  });

  it("rejects a URL too long to be an article's address, naming the field", async () => {
    const res = await app.request("/admin/articles", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ url: `https://push.example/${"a".repeat(3000)}`, title: "T", text }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      errors: [{ location: "body.url", message: "must be at most 2,048 characters" }],
    });
  });
});

describe("briefings through the API", () => {
  it("serves 404 for today before the briefing exists, then the briefing after ingest and build", async () => {
    const { token, id } = await createSubscriber("reader@example.com");
    expect((await app.request("/v1/briefings/today", { headers: as(token) })).status).toBe(404);

    const ingest = await app.request("/admin/ingest", { method: "POST", headers: admin });
    expect(ingest.status).toBe(200);
    const counts = (await ingest.json()) as {
      sources: number;
      articles: number;
      stories: number;
      failures: [];
    };
    expect(counts.sources).toBe(4);
    expect(counts.stories).toBeGreaterThan(5);
    expect(counts.failures).toEqual([]);

    const built = await app.request("/admin/briefings", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ subscriberIds: [id] }),
    });
    expect(await built.json()).toEqual({ generated: 1, skipped: 0 });

    const res = await app.request("/v1/briefings/today", { headers: as(token) });
    expect(res.status).toBe(200);
    const b = (await res.json()) as {
      id: string;
      date: string;
      subscriberId: string;
      items: {
        rank: number;
        reason: string;
        story: { keyPoints: { citations: number[] }[]; sources: { n: number; url: string }[] };
      }[];
    };
    expect(b.date).toBe("2026-11-27");
    expect(b.subscriberId).toBe(id);
    expect(b.items[0]!.rank).toBe(1);
    expect(b.items[0]!.story.sources[0]!.url).toMatch(/^https:\/\//);

    // The list, the briefing by id and a story of it are readable by their owner.
    const list = (await (await app.request("/v1/briefings?limit=5", { headers: as(token) })).json()) as {
      items: { id: string }[];
    };
    expect(list.items.map((i) => i.id)).toEqual([b.id]);
    const byId = await app.request(`/v1/briefings/${b.id}`, { headers: as(token) });
    expect(byId.status).toBe(200);
    // Conditional reads: the same briefing again answers 304 with no body.
    const etag = byId.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.request(`/v1/briefings/${b.id}`, {
      headers: { ...as(token), "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const any = await app.request(`/v1/briefings/${b.id}`, {
      headers: { ...as(token), "if-none-match": "*" },
    });
    expect(any.status).toBe(304);

    // As the app asks (gzip): the same JSON, compressed, under its own strong tag; either tag
    // revalidates, and a client refusing gzip (q=0) gets identity bytes.
    const gz = await app.request("/v1/briefings/today", {
      headers: { ...as(token), "accept-encoding": "br;q=1, gzip;q=0.8" },
    });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(gz.headers.get("vary")).toMatch(/accept-encoding/i);
    const gzTag = gz.headers.get("etag")!;
    const todayTag = res.headers.get("etag")!;
    expect(gzTag).toBe(`${todayTag.slice(0, -1)}-gzip"`);
    const raw = Buffer.from(await gz.arrayBuffer());
    expect(JSON.parse(gunzipSync(raw).toString())).toEqual(b);
    for (const tag of [gzTag, todayTag, `W/${gzTag}`]) {
      const revalidated = await app.request("/v1/briefings/today", {
        headers: { ...as(token), "accept-encoding": "gzip", "if-none-match": tag },
      });
      expect(revalidated.status).toBe(304);
    }
    const refused = await app.request("/v1/briefings/today", {
      headers: { ...as(token), "accept-encoding": "gzip;q=0, identity" },
    });
    expect(refused.headers.get("content-encoding")).toBeNull();
    expect(refused.headers.get("etag")).toBe(todayTag);
  });

  it("builds a given date only for readers where it has begun, counting the others as skipped", async () => {
    // 06:30 UTC on 27 November: still the 26th in Los Angeles.
    const ids: string[] = [];
    for (const [email, timezone] of [
      ["begun@example.com", "UTC"],
      ["not-yet@example.com", "America/Los_Angeles"],
    ] as const) {
      const res = await app.request("/admin/subscribers", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ ...profile(email), timezone }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const built = await app.request("/admin/briefings", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ date: "2026-11-27", subscriberIds: ids }),
    });
    expect(await built.json()).toEqual({ generated: 1, skipped: 1 });
    // The 26th has begun everywhere: both are built for it.
    const earlier = await app.request("/admin/briefings", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ date: "2026-11-26", subscriberIds: ids }),
    });
    expect(await earlier.json()).toEqual({ generated: 2, skipped: 0 });
  });

  it("reads and answers the same over a real socket (@hono/node-server), request ids included", async () => {
    // In production headers are read from Node's own request and cached briefings are answered
    // whole (src/lib/tagged-json.ts): the same answers as through app.request, checked here.
    const { token, id } = await createSubscriber("socket@example.com");
    expect((await app.request("/admin/ingest", { method: "POST", headers: admin })).status).toBe(200);
    await app.request("/admin/briefings", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ subscriberIds: [id] }),
    });
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((r) => server.once("listening", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    try {
      const health = await fetch(`${url}/healthz`);
      expect(health.headers.get("x-request-id")).toMatch(uuid);
      const given = await fetch(`${url}/healthz`, { headers: { "x-request-id": "app-42=a" } });
      expect(given.headers.get("x-request-id")).toBe("app-42=a");
      const odd = await fetch(`${url}/healthz`, { headers: { "x-request-id": "has space<script>" } });
      expect(odd.headers.get("x-request-id")).toMatch(uuid);

      const none = await fetch(`${url}/v1/briefings/today`);
      expect(none.status).toBe(401);
      const problem = (await none.json()) as { requestId: string };
      expect(problem.requestId).toBe(none.headers.get("x-request-id"));
      // HEAD answers have no body: the header is where their id is.
      for (const path of ["/healthz", "/v1/briefings/today"]) {
        const head = await fetch(`${url}${path}`, { method: "HEAD", headers: { "x-request-id": "head-1" } });
        expect(head.headers.get("x-request-id")).toBe("head-1");
      }
      // Two Authorization lines read as one joined value, as through the fetch Request: refused.
      // (A flat header list is sent as it is: Host too must be given.)
      const statusWith = (authorization: string[]) =>
        new Promise<number>((resolve, reject) =>
          httpGet(
            `${url}/v1/briefings/today`,
            { headers: ["host", "127.0.0.1", ...authorization.flatMap((a) => ["authorization", a])] },
            (res) => {
              res.resume();
              resolve(res.statusCode!);
            },
          ).on("error", reject),
        );
      expect(await statusWith([`Bearer ${token}`])).toBe(200);
      expect(await statusWith([`Bearer ${token}`, "Bearer another"])).toBe(401);

      const plain = await fetch(`${url}/v1/briefings/today`, {
        headers: { ...as(token), "accept-encoding": "identity", "x-request-id": "read-1" },
      });
      expect(plain.status).toBe(200);
      expect(plain.headers.get("x-request-id")).toBe("read-1");
      expect(plain.headers.get("content-encoding")).toBeNull();
      expect(plain.headers.get("cache-control")).toBe("private, no-cache");
      const briefing = (await plain.json()) as { subscriberId: string };
      expect(briefing.subscriberId).toBe(id);

      // fetch asks for gzip itself and decodes it: the answer is compressed once, with its own tag.
      const gz = await fetch(`${url}/v1/briefings/today`, { headers: as(token) });
      expect(gz.headers.get("content-encoding")).toBe("gzip");
      expect(gz.headers.get("vary")).toMatch(/accept-encoding/i);
      expect(gz.headers.get("x-request-id")).toMatch(uuid);
      expect(await gz.json()).toEqual(briefing);
      const again = await fetch(`${url}/v1/briefings/today`, {
        headers: { ...as(token), "if-none-match": gz.headers.get("etag")! },
      });
      expect(again.status).toBe(304);
      expect(again.headers.get("x-request-id")).toMatch(uuid);
      expect(await again.text()).toBe("");

      // Answers not made whole are compressed by the middleware as before, with their request id.
      const doc = await fetch(`${url}/openapi.json`, { headers: { "x-request-id": "doc-1" } });
      expect(doc.headers.get("content-encoding")).toBe("gzip");
      expect(doc.headers.get("x-request-id")).toBe("doc-1");
      expect(((await doc.json()) as { openapi: string }).openapi).toBe("3.1.0");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("answers 404 for another subscriber's briefing, exactly as for a missing one", async () => {
    const owner = await createSubscriber("owner@example.com");
    const other = await createSubscriber("other@example.com");
    await app.request("/admin/briefings", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ subscriberIds: [owner.id] }),
    });
    const mine = (await (await app.request("/v1/briefings/today", { headers: as(owner.token) })).json()) as {
      id: string;
    };
    const theirs = await app.request(`/v1/briefings/${mine.id}`, { headers: as(other.token) });
    const missing = await app.request("/v1/briefings/00000000-0000-4000-8000-000000000000", {
      headers: as(other.token),
    });
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    const detail = async (r: Response) => ((await r.json()) as { detail: string }).detail;
    expect(await detail(theirs)).toBe(await detail(missing));
  });

  it("takes feedback on a story (204), refuses an unknown signal (400) and an unknown story (404)", async () => {
    const { token } = await createSubscriber("feedback@example.com");
    const stories = (await (await app.request("/admin/stories", { headers: admin })).json()) as {
      stories: { id: string }[];
    };
    const id = stories.stories[0]!.id;
    const post = (storyId: string, body: unknown, headers: Record<string, string> = as(token)) =>
      app.request(`/v1/stories/${storyId}/feedback`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post(id, { signal: "more" })).status).toBe(204);
    const bad = await post(id, { signal: "meh" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { location: string }[] }).errors[0]!.location).toBe(
      "body.signal",
    );
    expect((await post("00000000-0000-4000-8000-000000000000", { signal: "up" })).status).toBe(404);
    expect((await post(id, { signal: "up" }, {})).status).toBe(401);
    // A reader tapping fast: every signal counts, none answers 500 (they once deadlocked).
    const burst = await Promise.all(Array.from({ length: 12 }, () => post(id, { signal: "up" })));
    expect(burst.map((r) => r.status)).toEqual(Array(12).fill(204));
    // Story ids are UUIDs whatever their case.
    expect((await post(id.toUpperCase(), { signal: "down" })).status).toBe(204);
  });

  it("answers a question about a story from its sources, with citations; refuses an empty question", async () => {
    const { token } = await createSubscriber("asker@example.com");
    const stories = (await (await app.request("/admin/stories", { headers: admin })).json()) as {
      stories: { id: string; headline: string }[];
    };
    const strike = stories.stories.find((s) => /strike|dock/i.test(s.headline))!;
    const ask = (question: string) =>
      app.request(`/v1/stories/${strike.id}/questions`, {
        method: "POST",
        headers: { ...as(token), "content-type": "application/json" },
        body: JSON.stringify({ question }),
      });
    const res = await ask("How long will the strike at Rotterdam last?");
    expect(res.status).toBe(200);
    const a = (await res.json()) as {
      answer: string;
      citations: number[];
      sources: { n: number; url: string }[];
    };
    expect(a.answer).toMatch(/72-hour|hours|strike/i);
    expect(a.citations.length).toBeGreaterThan(0);
    for (const n of a.citations) expect(a.sources.map((s) => s.n)).toContain(n);
    expect((await ask("")).status).toBe(400);
  });

  it("answers 401 without a token and 400 for a malformed id", async () => {
    expect((await app.request("/v1/briefings/today")).status).toBe(401);
    const { token } = await createSubscriber("malformed@example.com");
    expect((await app.request("/v1/briefings/not-a-uuid", { headers: as(token) })).status).toBe(400);
  });

  it("builds nobody's briefing for an empty list of subscribers (not everyone's)", async () => {
    await createSubscriber("empty-list@example.com");
    const res = await app.request("/admin/briefings", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ subscriberIds: [] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ generated: 0 });
  });

  it("refuses to build or send for a date after today everywhere (it would head every list)", async () => {
    // The test clock reads 2026-11-27T06:30Z: Kiritimati (UTC+14) is already on the 27th, not the 28th.
    for (const path of ["/admin/briefings", "/admin/deliveries"]) {
      const res = await app.request(path, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ date: "2026-11-28" }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ errors: [{ location: "body.date" }] });
    }
  });

  it("rejects an impossible date for a briefing build", async () => {
    const res = await app.request("/admin/briefings", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ date: "2026-13-45" }),
    });
    expect(res.status).toBe(400);
  });
});

describe("values a database cannot hold", () => {
  const send = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: admin,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const detail = async (r: Response) => ((await r.json()) as { detail: string }).detail;

  it("answers 400 naming the problem, never 500, and stores nothing", async () => {
    // 30 February and day 00 pass a YYYY-MM-DD pattern but are not dates.
    for (const date of ["2021-02-30", "0000-00-00"]) {
      const r = await send("POST", "/admin/briefings", { date });
      expect(r.status).toBe(400);
      expect(await detail(r)).toContain("must be a real calendar date");
      expect((await send("POST", "/admin/deliveries", { date })).status).toBe(400);
    }
    // The last two are in range as written and out of it once their offset is applied.
    for (const since of ["99999-01-01", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00%2B14:00"]) {
      const far = await send("GET", `/admin/stories?since=${since}`);
      expect(far.status, since).toBe(400);
      expect(await detail(far), since).toContain("between the years 1 and 9999");
    }
    // A NUL character is valid JSON but no PostgreSQL text can hold it.
    const nul = await send("POST", "/admin/sources", {
      url: "https://nul.example/feed.xml",
      name: "a\u0000b",
    });
    expect(nul.status).toBe(400);
    expect(await detail(nul)).toContain("cannot be stored");
    const listed = (await (await send("GET", "/admin/sources")).json()) as { sources: { url: string }[] };
    expect(listed.sources.some((x) => x.url === "https://nul.example/feed.xml")).toBe(false);
    const long = await send("POST", "/admin/sources", { url: `https://long.example/${"a".repeat(5000)}` });
    expect(long.status).toBe(400);
    // Thousands of bad values are named up to 50, with how many more there are.
    const many = await send("POST", "/admin/briefings", {
      subscriberIds: Array.from({ length: 5000 }, (_, i) => `not-an-id-${i}`),
    });
    expect(many.status).toBe(400);
    const problem = (await many.json()) as { detail: string; errors: unknown[] };
    expect(problem.errors).toHaveLength(50);
    expect(problem.detail).toMatch(/; and \d+ more$/);
  });

  it("names every place that holds a NUL or an unpaired surrogate, in any route, and stores nothing", async () => {
    // An unpaired surrogate in a list went to jsonb and answered 500; in plain text it was
    // stored as U+FFFD.
    const subscriber = await send("POST", "/admin/subscribers", {
      ...profile("surrogates@example.com"),
      name: "x\udfffy",
      role: "a\u0000b",
      interests: ["fine", "\ud800"],
      followed: [{ kind: "topic", name: "\ud800" }],
    });
    expect(subscriber.status).toBe(400);
    const { errors } = (await subscriber.json()) as { errors: { location: string }[] };
    expect(errors.map((e) => e.location).sort()).toEqual(
      ["body.followed.0.name", "body.interests.1", "body.name", "body.role"].sort(),
    );
    const article = await send("POST", "/admin/articles", {
      url: "https://push.example/surrogate",
      title: "Title",
      text: "Text \ud800 of the article.",
    });
    expect(article.status).toBe(400);
    expect(await article.json()).toMatchObject({ errors: [{ location: "body.text" }] });
    const { token } = await createSubscriber("patcher@example.com");
    const patch = await app.request("/v1/me", {
      method: "PATCH",
      headers: { ...as(token), "content-type": "application/json" },
      body: JSON.stringify({ mutedSources: ["x\udfffy"] }),
    });
    expect(patch.status).toBe(400);
    expect(await patch.json()).toMatchObject({ errors: [{ location: "body.mutedSources.0" }] });
    const me = (await (await app.request("/v1/me", { headers: as(token) })).json()) as {
      mutedSources: string[];
    };
    expect(me.mutedSources).toEqual([]);
  });

  it("refuses line breaks, control characters and direction overrides in one-line fields; stores nothing", async () => {
    const { token } = await createSubscriber("one-line@example.com");
    const before = await (await app.request("/v1/me", { headers: as(token) })).json();
    const patch = (body: unknown) =>
      app.request("/v1/me", {
        method: "PATCH",
        headers: { ...as(token), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const refused = await patch({
      role: "a\r\nBcc: x@example.com",
      industry: "\u001b[31mred",
      name: "evil\u202Etxt.exe",
      interests: ["fine", "tab\there"],
    });
    expect(refused.status).toBe(400);
    const { errors } = (await refused.json()) as { errors: { location: string; message: string }[] };
    expect(errors.map((e) => e.location).sort()).toEqual(
      ["body.industry", "body.interests.1", "body.name", "body.role"].sort(),
    );
    expect(errors[0]!.message).toContain("one line of text");
    // Unicode's own line and paragraph separators, and text of invisible characters only.
    const separated = await patch({
      name: "Bob\u2028Bcc: evil@x.example",
      industry: "\u200b",
      interests: ["\u2060"],
    });
    expect(separated.status).toBe(400);
    const more = ((await separated.json()) as { errors: { location: string; message: string }[] }).errors;
    expect(more.map((e) => `${e.location}: ${e.message}`).sort()).toEqual([
      "body.industry: must not be empty (it has only invisible characters)",
      "body.interests.0: must not be empty (it has only invisible characters)",
      "body.name: must be one line of text (no line breaks, control characters or direction overrides)",
    ]);
    expect(await (await app.request("/v1/me", { headers: as(token) })).json()).toEqual(before);
    // A trailing line break is trimmed as spaces are; a right-to-left mark is part of a name.
    const fine = await patch({ role: "Analyst\n", name: "\u200Fنور" });
    expect(fine.status).toBe(200);
    expect(await fine.json()).toMatchObject({ role: "Analyst", name: "\u200Fنور" });
  });

  it("answers 405 with Allow for a method a path does not take, OPTIONS with its methods, 404 for no path", async () => {
    const { token } = await createSubscriber("methods@example.com");
    const wrong = await app.request("/v1/me", { method: "DELETE", headers: as(token) });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, PATCH, HEAD, OPTIONS");
    expect(wrong.headers.get("content-type")).toContain("application/problem+json");
    expect(((await wrong.json()) as { detail: string }).detail).toContain("DELETE is not allowed on /v1/me");
    // Without a token the path says nothing about itself.
    expect((await app.request("/v1/me", { method: "DELETE" })).status).toBe(401);
    const options = await app.request("/healthz", { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    const put = await app.request("/admin/sources", { method: "PUT", headers: admin, body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toContain("POST");
    expect((await app.request("/no/such/path", { method: "POST" })).status).toBe(404);
  });

  it("takes an email address with surrounding spaces as sign-up's form does, and refuses one that is not", async () => {
    const created = await send("POST", "/admin/subscribers", {
      ...profile("x@example.com"),
      email: "  spaced@example.com ",
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { email: string }).email).toBe("spaced@example.com");
    const bad = await send("POST", "/admin/subscribers", {
      ...profile("x@example.com"),
      email: " not an address ",
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      errors: [{ location: "body.email", message: "must be an email address" }],
    });
  });

  it("keeps each interest, muted topic, muted source and followed name once, compared without case, spacing or composition", async () => {
    const { token } = await createSubscriber("twice@example.com");
    const res = await app.request("/v1/me", {
      method: "PATCH",
      headers: { ...as(token), "content-type": "application/json" },
      body: JSON.stringify({
        interests: [
          "AI",
          "ai",
          "Energy",
          " AI ",
          "Machine learning",
          "Machine  Learning",
          "Caf\u00e9",
          "Cafe\u0301",
        ],
        mutedTopics: ["Sport", "sport"],
        followed: [
          { kind: "company", name: "Huawei" },
          { kind: "company", name: "HUAWEI" },
          { kind: "topic", name: "huawei" },
        ],
        deliveryTime: " 07:30 ",
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      interests: ["AI", "Energy", "Machine learning", "Caf\u00e9"],
      mutedTopics: ["Sport"],
      followed: [
        { kind: "company", name: "Huawei" },
        { kind: "topic", name: "huawei" },
      ],
      deliveryTime: "07:30",
    });
  });

  it("refuses a JSON body that is not UTF-8, and stores nothing (it was stored with U+FFFD)", async () => {
    const { token } = await createSubscriber("bytes@example.com");
    const before = await (await app.request("/v1/me", { headers: as(token) })).json();
    // "ab", then bytes no UTF-8 text has (a Latin-1 é, ÿþ), then "cd".
    const body = Buffer.concat([
      Buffer.from('{"role":"ab'),
      Buffer.from([0xe9, 0xff, 0xfe]),
      Buffer.from('cd"}'),
    ]);
    const patch = await app.request("/v1/me", {
      method: "PATCH",
      headers: { ...as(token), "content-type": "application/json" },
      body,
    });
    expect(patch.status).toBe(400);
    expect(await patch.json()).toMatchObject({
      detail: expect.stringContaining("not valid UTF-8"),
      errors: [{ location: "body" }],
    });
    expect(await (await app.request("/v1/me", { headers: as(token) })).json()).toEqual(before);
    // Valid UTF-8 beyond ASCII, and a byte order mark before it, are read as before.
    const fine = await app.request("/v1/me", {
      method: "PATCH",
      headers: { ...as(token), "content-type": "application/json" },
      body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"role":"Économiste"}')]),
    });
    expect(fine.status).toBe(200);
    expect(((await fine.json()) as { role: string }).role).toBe("Économiste");
  });

  it("reads an empty body labelled JSON as {}: an optional body may be left out, a required one names its fields", async () => {
    const empty = { ...admin, "content-type": "application/json" };
    const build = await app.request("/admin/briefings", { method: "POST", headers: empty, body: "" });
    expect(build.status).toBe(200);
    const create = await app.request("/admin/subscribers", { method: "POST", headers: empty, body: "" });
    expect(create.status).toBe(400);
    const { errors } = (await create.json()) as { errors: { location: string }[] };
    expect(errors.map((e) => e.location)).toEqual(expect.arrayContaining(["body.email", "body.role"]));
  });

  it("reads a body nested 500,000 levels deep without running out of stack", async () => {
    const deep = `{"email":${"[".repeat(500_000)}"\u0000"${"]".repeat(500_000)}}`;
    const res = await app.request("/admin/subscribers", { method: "POST", headers: admin, body: deep });
    expect(res.status).toBe(400);
  });

  it("refuses a body over 2 MB before reading it", async () => {
    const res = await send("POST", "/admin/articles", {
      url: "https://push.example/big",
      title: "T",
      text: "a".repeat(3_000_000),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ status: 413, title: "Content Too Large" });
  });
});

describe("POST /admin/ingest", () => {
  it("names each source that failed and why, and refuses options it does not take", async () => {
    const added = await app.request("/admin/sources", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ url: "sample:no-such-feed.xml", name: "Missing sample" }),
    });
    expect(added.status).toBe(201);
    const { id } = (await added.json()) as { id: string };
    try {
      const res = await app.request("/admin/ingest", { method: "POST", headers: admin });
      const run = (await res.json()) as { failed: number; failures: { sourceId: string; error: string }[] };
      expect(run.failures).toEqual([{ sourceId: id, error: expect.stringMatching(/\S/) }]);
      expect(run.failed).toBe(1);
    } finally {
      // No route removes a source: switched off here so later runs in this file fetch the samples only.
      const { sources } = await import("./db/schema/index.ts");
      const { eq } = await import("drizzle-orm");
      await deps.db.update(sources).set({ enabled: false }).where(eq(sources.id, id));
    }
    const misspelt = await app.request("/admin/ingest", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ sourceIds: ["x"] }),
    });
    expect(misspelt.status).toBe(400);
    expect(((await misspelt.json()) as { detail: string }).detail).toMatch(/sourceIds/);
  });
});
