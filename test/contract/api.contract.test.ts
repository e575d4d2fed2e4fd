import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import type { DbHandle } from "../../src/db/client.ts";
import { ADMIN_TOKEN, type createTestDeps } from "../deps.ts";
import { withSampleNews } from "../sample-news.ts";
import { createContractClient, createResponseChecker } from "./contract-client.ts";
import { API_TYPES_PATH, renderApiTypes } from "./generate-api-types.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;
let doc: Parameters<typeof createContractClient>[1] & { openapi: string };
let api: ReturnType<typeof createContractClient>;

beforeAll(async () => {
  ({ db, deps } = await withSampleNews());
  app = createApp(deps);
  doc = (await (await app.request("/openapi.json")).json()) as typeof doc;
  api = createContractClient(app, doc);
});
afterAll(async () => {
  await db.close();
});

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

// The paths of ../shared/API.md, the contract outside clients code against.
const CONTRACT = [
  "POST /admin/sources",
  "GET /admin/sources",
  "POST /admin/subscribers",
  "POST /admin/ingest",
  "GET /admin/stories",
  "POST /admin/briefings",
  "POST /admin/deliveries",
  "GET /v1/me",
  "PATCH /v1/me",
  "GET /v1/briefings",
  "GET /v1/briefings/today",
  "GET /v1/briefings/{id}",
  "GET /v1/stories/{id}",
  "POST /v1/stories/{id}/feedback",
  "POST /v1/stories/{id}/share",
  "DELETE /v1/shares/{token}",
  "POST /v1/stories/{id}/questions",
  "POST /v1/auth/email",
  "POST /v1/auth/verify",
  "GET /s/{token}",
  "GET /signup",
  "POST /signup",
];

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
  });

  it("lists every route of the HTTP contract", () => {
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(CONTRACT.filter((r) => !documented.includes(r))).toEqual([]);
  });

  it("matches the committed client types (run `npx tsx test/contract/generate-api-types.ts` when it does not)", async () => {
    expect(await renderApiTypes()).toBe(readFileSync(API_TYPES_PATH, "utf8"));
  });
});

describe("the response checker", () => {
  it("reports an answer whose body, status or content type strays from the document", async () => {
    const check = createResponseChecker(doc);
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    expect(await check("GET", "/v1/tokens", json({ tokens: [{ id: "x" }] }))).not.toEqual([]);
    expect(await check("GET", "/v1/tokens", json({ tokens: [] }, 418))).not.toEqual([]);
    expect(await check("GET", "/v1/nowhere", json({}))).not.toEqual([]);
    expect(await check("GET", "/v1/tokens", json({ tokens: [] }))).toEqual([]);
  });
});

describe("the app's flows through the typed client", () => {
  let token = "";
  let briefingId = "";
  let storyId = "";

  it("signs in by emailed code and reads and updates the profile", async () => {
    const { client } = api;
    const created = await client.POST("/admin/subscribers", {
      headers: admin,
      body: {
        email: "reader@example.com",
        role: "Supply chain director",
        industry: "Manufacturing",
        interests: ["shipping", "ports"],
        timezone: "Europe/London",
        deliveryTime: "07:00",
      },
    });
    expect(created.response.status).toBe(201);
    expect(created.data!.token.length).toBeGreaterThanOrEqual(22);

    const sent = await client.POST("/v1/auth/email", { body: { email: "Reader@Example.com" } });
    expect(sent.data).toEqual({ status: "sent" });
    const code = deps.mailer.sent.at(-1)!.subject.match(/code: (\w+)/)![1]!;
    const unknown = await client.POST("/v1/auth/email", { body: { email: "nobody@example.com" } });
    expect(unknown.response.status).toBe(202);
    const wrong = await client.POST("/v1/auth/verify", {
      body: { email: "reader@example.com", code: "ZZZZZZZZ" },
    });
    expect(wrong.response.status).toBe(401);
    expect(wrong.error!.title).toBe("Unauthorized");
    const verified = await client.POST("/v1/auth/verify", { body: { email: "reader@example.com", code } });
    expect(verified.data!.subscriberId).toBe(created.data!.id);
    token = verified.data!.token;

    const me = await client.GET("/v1/me", { headers: bearer(token) });
    expect(me.data!.email).toBe("reader@example.com");
    const patched = await client.PATCH("/v1/me", {
      headers: bearer(token),
      body: { interests: ["shipping", "ports", "labour"], briefingLength: 4 },
    });
    expect(patched.data!.interests).toEqual(["shipping", "ports", "labour"]);
    expect(patched.data!.briefingLength).toBe(4);
    const bad = await client.PATCH("/v1/me", { headers: bearer(token), body: { deliveryTime: "7am" } });
    expect(bad.response.status).toBe(400);
    expect(bad.error!.errors![0]!.location).toBe("body.deliveryTime");
    expect(bad.response.headers.get("content-type")).toBe("application/problem+json");
  });

  it("reads today's briefing, its list and one by id, each with an ETag that answers 304", async () => {
    const { client } = api;
    const before = await client.GET("/v1/briefings/today", { headers: bearer(token) });
    expect(before.response.status).toBe(404);
    const built = await client.POST("/admin/briefings", { headers: admin, body: {} });
    expect(built.data!.generated).toBeGreaterThan(0);

    const today = await client.GET("/v1/briefings/today", { headers: bearer(token) });
    expect(today.response.status).toBe(200);
    const b = today.data!;
    expect(b.date).toBe("2026-11-27");
    expect(b.items.length).toBeGreaterThan(0);
    expect(b.items.length).toBeLessThanOrEqual(4);
    for (const { story } of b.items) {
      const ns = new Set(story.sources.map((s) => s.n));
      for (const p of [...story.keyPoints, ...story.analysis])
        for (const n of p.citations) expect(ns).toContain(n);
    }
    briefingId = b.id;
    storyId = b.items[0]!.story.id;
    const etag = today.response.headers.get("etag")!;
    expect(today.response.headers.get("cache-control")).toBe("private, no-cache");
    const again = await client.GET("/v1/briefings/today", {
      headers: { ...bearer(token), "if-none-match": etag },
    });
    expect(again.response.status).toBe(304);

    const list = await client.GET("/v1/briefings", {
      headers: bearer(token),
      params: { query: { limit: 1 } },
    });
    expect(list.data!.items.map((i) => i.id)).toEqual([briefingId]);
    expect(list.data!.nextCursor).toBeNull();
    const badLimit = await client.GET("/v1/briefings", {
      headers: bearer(token),
      params: { query: { limit: 0 } },
    });
    expect(badLimit.response.status).toBe(400);
    // Written as API.md shows it, empty values read as unset.
    const asDocumented = await app.request("/v1/briefings?cursor=&limit=", { headers: bearer(token) });
    expect(asDocumented.status).toBe(200);
    expect(((await asDocumented.json()) as { items: { id: string }[] }).items.map((i) => i.id)).toEqual([
      briefingId,
    ]);

    const one = await client.GET("/v1/briefings/{id}", {
      headers: bearer(token),
      params: { path: { id: briefingId } },
    });
    expect(one.data!.id).toBe(briefingId);
    const oneAgain = await client.GET("/v1/briefings/{id}", {
      headers: { ...bearer(token), "if-none-match": one.response.headers.get("etag")! },
      params: { path: { id: briefingId } },
    });
    expect(oneAgain.response.status).toBe(304);
  });

  it("reads a story with an ETag, rates it and asks about it", async () => {
    const { client } = api;
    const story = await client.GET("/v1/stories/{id}", {
      headers: bearer(token),
      params: { path: { id: storyId } },
    });
    expect(story.data!.id).toBe(storyId);
    expect(story.data!.whyItMatters).toBeTruthy();
    const again = await client.GET("/v1/stories/{id}", {
      headers: { ...bearer(token), "if-none-match": story.response.headers.get("etag")! },
      params: { path: { id: storyId } },
    });
    expect(again.response.status).toBe(304);

    const rated = await client.POST("/v1/stories/{id}/feedback", {
      headers: bearer(token),
      params: { path: { id: storyId } },
      body: { signal: "more" },
    });
    expect(rated.response.status).toBe(204);
    const asked = await client.POST("/v1/stories/{id}/questions", {
      headers: bearer(token),
      params: { path: { id: storyId } },
      body: { question: "What happened and who said so?" },
    });
    expect(asked.data!.answer.length).toBeGreaterThan(0);
    const ns = asked.data!.sources.map((s) => s.n);
    for (const n of asked.data!.citations) expect(ns).toContain(n);
  });

  it("shares a story by link, then revokes it so the page answers 410", async () => {
    const { client } = api;
    const shared = await client.POST("/v1/stories/{id}/share", {
      headers: bearer(token),
      params: { path: { id: storyId } },
      body: { expiresInDays: 7 },
    });
    expect(shared.response.status).toBe(201);
    expect(shared.data!.url).toBe(`http://localhost:3000/s/${shared.data!.token}`);
    expect(shared.data!.expiresAt).toBe("2026-12-04T07:05:00.000Z");
    const page = await app.request(`/s/${shared.data!.token}`);
    expect(page.status).toBe(200);
    const revoked = await client.DELETE("/v1/shares/{token}", {
      headers: bearer(token),
      params: { path: { token: shared.data!.token } },
    });
    expect(revoked.response.status).toBe(204);
    expect((await app.request(`/s/${shared.data!.token}`)).status).toBe(410);
    // The sharer's list shows the link, its one reader's view, and that it no longer opens.
    const listed = await client.GET("/v1/shares", {
      headers: bearer(token),
      params: { query: { limit: 50 } },
    });
    expect(listed.response.status).toBe(200);
    const mine = listed.data!.items.find((l) => l.token === shared.data!.token);
    expect(mine).toMatchObject({ status: "revoked", views: 1, storyId, url: shared.data!.url });
  });

  it("lists the subscriber's tokens and revokes one, which then answers 401", async () => {
    const { client } = api;
    const listed = await client.GET("/v1/tokens", { headers: bearer(token) });
    expect(listed.data!.tokens.map((t) => t.label).sort()).toEqual(["app", "default"]);
    const current = listed.data!.tokens.find((t) => t.current)!;
    expect(current.label).toBe("app");
    const other = listed.data!.tokens.find((t) => !t.current)!;
    expect(
      (await client.DELETE("/v1/tokens/{id}", { headers: bearer(token), params: { path: { id: other.id } } }))
        .response.status,
    ).toBe(204);
    expect(
      (
        await client.DELETE("/v1/tokens/{id}", {
          headers: bearer(token),
          params: { path: { id: current.id } },
        })
      ).response.status,
    ).toBe(204);
    const after = await client.GET("/v1/me", { headers: bearer(token) });
    expect(after.response.status).toBe(401);
    expect(after.error!.status).toBe(401);
  });

  it("every answer above kept to the document: documented status, content type and schema", () => {
    expect(api.violations).toEqual([]);
  });
});
