import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import type { DbHandle } from "../../src/db/client.ts";
import { generateBriefings } from "../../src/modules/briefings/index.ts";
import { createSubscriber } from "../../src/modules/profiles/index.ts";
import { ADMIN_TOKEN, type createTestDeps } from "../deps.ts";
import { withSampleNews } from "../sample-news.ts";

/**
 * Property: no input to an API route makes the server fail. Random JSON bodies (any value, and
 * objects carrying the operation's own field names with random values), random text that is not
 * JSON, random path parameters and query strings: each answer is a 2xx, a 304, or a 4xx
 * application/problem+json, never a 500.
 */
let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;
let token = "";
let storyId = "";
let briefingId = "";
type Op = {
  requestBody?: {
    content: Record<string, { schema: { properties?: Record<string, unknown>; $ref?: string } }>;
  };
};
let doc: {
  paths: Record<string, Record<string, Op>>;
  components: { schemas: Record<string, { properties?: object }> };
};

beforeAll(async () => {
  ({ db, deps } = await withSampleNews());
  // The limiter would answer 429 long before the properties are done.
  deps.config.RATE_LIMIT_PER_SECOND = 1e6;
  deps.config.RATE_LIMIT_BURST = 1e6;
  app = createApp(deps);
  const s = await createSubscriber(deps, {
    email: "fuzz@example.com",
    role: "Analyst",
    industry: "Shipping",
    timezone: "UTC",
    deliveryTime: "07:00",
  });
  token = s.token;
  briefingId = (await generateBriefings(deps, { subscriberIds: [s.subscriber.id] })).briefingIds[0]!;
  const b = (await (
    await app.request(`/v1/briefings/${briefingId}`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as { items: { story: { id: string } }[] };
  storyId = b.items[0]!.story.id;
  doc = (await (await app.request("/openapi.json")).json()) as typeof doc;
});
afterAll(async () => {
  await db.close();
});

// Whole-pipeline admin actions (fetch every source, send every due email) are not fuzzed: their
// inputs are small and tested directly; here they would only make each run slow.
const SKIP = new Set(["POST /admin/ingest", "POST /admin/deliveries"]);

function operations(methods: string[]) {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([m]) => methods.includes(m))
      .map(([m, op]) => ({ method: m.toUpperCase(), path, op }))
      .filter(
        (o) =>
          (o.path.startsWith("/v1/") || o.path.startsWith("/admin/")) && !SKIP.has(`${o.method} ${o.path}`),
      ),
  );
}

function fieldNames(op: Op): string[] {
  const schema = op.requestBody?.content["application/json"]?.schema;
  if (!schema) return [];
  const resolved = schema.$ref ? doc.components.schemas[schema.$ref.split("/").pop()!] : schema;
  return Object.keys(resolved?.properties ?? {});
}

const headersFor = (path: string) => ({
  authorization: `Bearer ${path.startsWith("/admin/") ? ADMIN_TOKEN : token}`,
  "content-type": "application/json",
});
const realPath = (path: string) =>
  path
    .replace("{id}", path.startsWith("/v1/briefings") ? briefingId : storyId)
    .replace("{token}", "not-a-share-token-aaaaaaaaaaaaaaaaaaaaa");

async function expectNoServerError(res: Response, what: string) {
  if (res.status >= 500) throw new Error(`${what} answered ${res.status}: ${await res.text()}`);
  if (res.status >= 400) expect(res.headers.get("content-type"), what).toBe("application/problem+json");
}

const RUNS = 40;

describe("random input never makes an API route fail", () => {
  it("JSON bodies, well-formed or not, to every POST and PATCH", async () => {
    const routes = operations(["post", "patch"]);
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const { method, path, op } of routes) {
      const names = fieldNames(op);
      const shaped = names.length
        ? fc.dictionary(fc.constantFrom(...names), fc.jsonValue(), { maxKeys: names.length })
        : fc.constant({});
      const body = fc.oneof(
        fc.jsonValue().map((v) => JSON.stringify(v)),
        shaped.map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 40 }),
      );
      await fc.assert(
        fc.asyncProperty(body, async (text) => {
          const res = await app.request(realPath(path), { method, headers: headersFor(path), body: text });
          await expectNoServerError(res, `${method} ${path} ${text}`);
        }),
        { numRuns: RUNS },
      );
    }
  });

  it("path parameters of any text to every route that takes one", async () => {
    const routes = [...operations(["get", "post", "patch", "delete"])].filter((o) => o.path.includes("{"));
    expect(routes.length).toBeGreaterThanOrEqual(6);
    for (const { method, path } of routes) {
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 60 }), async (param) => {
          const url = path.replace(/\{[^}]+\}/, encodeURIComponent(param));
          const res = await app.request(url, {
            method,
            headers: headersFor(path),
            ...(method === "GET" || method === "DELETE" ? {} : { body: "{}" }),
          });
          await expectNoServerError(res, `${method} ${url}`);
        }),
        { numRuns: RUNS },
      );
    }
  });

  it("query strings of any text to every GET", async () => {
    const key = fc.oneof(fc.constantFrom("cursor", "limit", "since"), fc.string({ maxLength: 8 }));
    const query = fc.array(fc.tuple(key, fc.string({ maxLength: 30 })), { maxLength: 4 });
    for (const { path } of operations(["get"])) {
      await fc.assert(
        fc.asyncProperty(query, async (pairs) => {
          const url = `${realPath(path)}?${new URLSearchParams(pairs).toString()}`;
          const res = await app.request(url, { headers: headersFor(path) });
          await expectNoServerError(res, `GET ${url}`);
        }),
        { numRuns: RUNS },
      );
    }
  });

  it("form fields of any text to the sign-up form: the form again or the inbox page, never a failure", async () => {
    const fields = fc.dictionary(
      fc.constantFrom("email", "role", "industry", "interests", "timezone", "deliveryTime"),
      fc.string({ maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(fields, async (f) => {
        const res = await app.request("/signup", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(f).toString(),
        });
        expect([200, 400]).toContain(res.status);
        expect(res.headers.get("content-type")).toContain("text/html");
      }),
      { numRuns: RUNS },
    );
  });
});
