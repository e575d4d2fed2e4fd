import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import type { DbHandle } from "../../src/db/client.ts";
import { generateBriefings } from "../../src/modules/briefings/index.ts";
import { createSubscriber, issueToken, listTokens } from "../../src/modules/profiles/index.ts";
import { createShare } from "../../src/modules/sharing/index.ts";
import type { createTestDeps } from "../deps.ts";
import { withSampleNews } from "../sample-news.ts";

/**
 * Every subscriber route (every /v1 operation in /openapi.json but sign-in) run without a token
 * (401) and, where it names one of the owner's objects, with another subscriber's token (404, the
 * same answer as for a missing object, and the object untouched). A route added to the document
 * without a row here fails the test.
 */
let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;
const owner = { id: "", token: "" };
const intruder = { id: "", token: "" };
const objects = { briefingId: "", storyId: "", shareToken: "", tokenId: "" };
const MISSING_UUID = "00000000-0000-4000-8000-000000000000";

beforeAll(async () => {
  ({ db, deps } = await withSampleNews());
  app = createApp(deps);
  const profile = (email: string) => ({
    email,
    role: "Analyst",
    industry: "Shipping",
    timezone: "UTC",
    deliveryTime: "07:00",
  });
  const a = await createSubscriber(deps, profile("owner@example.com"));
  const b = await createSubscriber(deps, profile("intruder@example.com"));
  Object.assign(owner, { id: a.subscriber.id, token: a.token });
  Object.assign(intruder, { id: b.subscriber.id, token: b.token });
  const built = await generateBriefings(deps, { subscriberIds: [owner.id] });
  objects.briefingId = built.briefingIds[0]!;
  const briefing = (await (
    await app.request(`/v1/briefings/${objects.briefingId}`, {
      headers: { authorization: `Bearer ${owner.token}` },
    })
  ).json()) as { items: { story: { id: string } }[] };
  objects.storyId = briefing.items[0]!.story.id;
  objects.shareToken = (await createShare(deps, owner.id, objects.storyId)).token;
  await issueToken(deps, owner.id, "tablet");
  objects.tokenId = (await listTokens(deps, owner.id)).find((t) => t.label === "tablet")!.id;
});
afterAll(async () => {
  await db.close();
});

type Row = {
  path: (o: typeof objects) => string;
  body?: unknown;
  /** The object is the owner's: another subscriber gets 404. Otherwise it is their own or shared news. */
  owned?: { missing: string };
};

const MATRIX: Record<string, Row> = {
  "GET /v1/me": { path: () => "/v1/me" },
  "PATCH /v1/me": { path: () => "/v1/me", body: { region: "EU" } },
  "GET /v1/tokens": { path: () => "/v1/tokens" },
  "DELETE /v1/tokens/{id}": {
    path: (o) => `/v1/tokens/${o.tokenId}`,
    owned: { missing: `/v1/tokens/${MISSING_UUID}` },
  },
  "GET /v1/briefings": { path: () => "/v1/briefings" },
  "GET /v1/briefings/today": { path: () => "/v1/briefings/today" },
  "GET /v1/briefings/{id}": {
    path: (o) => `/v1/briefings/${o.briefingId}`,
    owned: { missing: `/v1/briefings/${MISSING_UUID}` },
  },
  // Stories are the day's news, the same for every reader; only "why it matters" is per reader.
  "GET /v1/stories/{id}": { path: (o) => `/v1/stories/${o.storyId}` },
  "POST /v1/stories/{id}/feedback": {
    path: (o) => `/v1/stories/${o.storyId}/feedback`,
    body: { signal: "up" },
  },
  "POST /v1/stories/{id}/questions": {
    path: (o) => `/v1/stories/${o.storyId}/questions`,
    body: { question: "What happened?" },
  },
  "POST /v1/stories/{id}/share": { path: (o) => `/v1/stories/${o.storyId}/share`, body: {} },
  // The sharer's own links only: another subscriber's list shows none of the owner's.
  "GET /v1/shares": { path: () => "/v1/shares" },
  "DELETE /v1/shares/{token}": {
    path: (o) => `/v1/shares/${o.shareToken}`,
    owned: { missing: "/v1/shares/not-a-real-share-token-aaaaaaaaaaaaaaaaa" },
  },
};

const call = (route: string, path: string, token: string | null, body?: unknown) =>
  app.request(path, {
    method: route.split(" ")[0],
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe("ownership matrix", () => {
  it("has a row for every subscriber route in the OpenAPI document", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, object> };
    const routes = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith("/v1/") && !p.startsWith("/v1/auth/"))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes.sort()).toEqual(Object.keys(MATRIX).sort());
  });

  it.each(Object.entries(MATRIX))("%s answers 401 problem+json without a token", async (route, row) => {
    const res = await call(route, row.path(objects), null, row.body);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const bad = await app.request(row.path(objects), {
      method: route.split(" ")[0],
      headers: { authorization: "Bearer dbk_not-a-token" },
    });
    expect(bad.status).toBe(401);
  });

  it.each(Object.entries(MATRIX).filter(([, r]) => r.owned))(
    "%s answers another subscriber's object with 404, as for a missing one, and leaves it alone",
    async (route, row) => {
      const theirs = await call(route, row.path(objects), intruder.token, row.body);
      const missing = await call(route, row.owned!.missing, intruder.token, row.body);
      expect(theirs.status).toBe(404);
      expect(missing.status).toBe(404);
      const detail = async (r: Response) => ((await r.json()) as { detail: string }).detail;
      expect(await detail(theirs)).toBe(await detail(missing));
    },
  );

  it("after every intrusion the owner's objects are intact", async () => {
    const auth = { authorization: `Bearer ${owner.token}` };
    expect((await app.request(`/v1/briefings/${objects.briefingId}`, { headers: auth })).status).toBe(200);
    expect((await app.request(`/s/${objects.shareToken}`)).status).toBe(200);
    expect((await listTokens(deps, owner.id)).map((t) => t.label)).toContain("tablet");
  });

  it.each(Object.entries(MATRIX).filter(([, r]) => !r.owned))(
    "%s with another subscriber's token shows nothing of the owner",
    async (route, row) => {
      const res = await call(route, row.path(objects), intruder.token, row.body);
      expect(res.status).toBeLessThan(500);
      const text = await res.text();
      expect(text).not.toContain(owner.id);
      expect(text).not.toContain("owner@example.com");
      expect(text).not.toContain(objects.briefingId);
      expect(text).not.toContain(objects.shareToken);
    },
  );
});
