import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, useTestDeps } from "../../../test/deps.ts";
import { createApp } from "../../app.ts";

// The hostile-input sweep registered feeds on this machine: private addresses are allowed here.
const t = useTestDeps({ env: { FETCH_ALLOW_PRIVATE: "true" } });
let app: ReturnType<typeof createApp>;
beforeAll(() => {
  app = createApp(t.deps);
});

const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
const post = (body: unknown) =>
  app.request("/admin/sources", {
    method: "POST",
    headers: admin,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
type Problem = { detail: string; errors?: { location: string; message: string }[] };
type Listed = { sources: { url: string; name: string; enabled: boolean; language: string | null }[] };
const listed = async () => (await (await app.request("/admin/sources", { headers: admin })).json()) as Listed;

describe("POST /admin/sources", () => {
  it("registers a feed and answers 201 with the source", async () => {
    const res = await post({ url: "https://wire.example.com/feed.xml", name: "Wire" });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      id: expect.any(String),
      url: "https://wire.example.com/feed.xml",
      name: "Wire",
      enabled: true,
      health: { consecutiveFailures: 0 },
    });
  });

  it("refuses a caller without the admin token", async () => {
    const res = await app.request("/admin/sources", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: "https://no-token.example.com/feed.xml" }),
    });
    expect(res.status).toBe(401);
    expect((await listed()).sources.some((s) => s.url.includes("no-token"))).toBe(false);
  });

  it.each([
    "http://user:pass@127.0.0.1:8765/feed.rss",
    "http://user@127.0.0.1:8765/feed.rss",
    "https://:secret@news.example.com/feed.xml",
  ])("refuses %s, a URL with credentials, naming body.url, and stores nothing", async (url) => {
    const res = await post({ url });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors).toEqual([
      { location: "body.url", message: "must not contain a user name or password" },
    ]);
    const text = JSON.stringify(await listed());
    expect(text).not.toContain("pass");
    expect(text).not.toContain("secret");
    expect(text).not.toContain("user");
  });

  it.each([
    "file:///etc/passwd",
    "ftp://news.example.com/feed.xml",
    "javascript:alert(1)",
    "sample:",
    "sample:<script>",
    "sample:../feeds/x.rss",
  ])("refuses %s, which is not a feed Daybreak fetches, naming body.url", async (url) => {
    const res = await post({ url });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors).toEqual([
      { location: "body.url", message: "must be an http(s) feed URL (or sample:<file name>)" },
    ]);
    expect((await listed()).sources.some((s) => s.url === url)).toBe(false);
  });

  it("stores a URL in its normal form and answers 409 for another spelling of the same feed", async () => {
    const first = await post({ url: "http://127.0.0.1:8765/feed.rss" });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ url: "http://127.0.0.1:8765/feed.rss", name: "127.0.0.1" });
    for (const url of [
      "http://127.0.0.1:8765/feed.rss",
      "HTTP://127.0.0.1:8765/feed.rss",
      "http://127.0.0.1:8765/feed.rss#frag",
      "http://127.0.0.1:8765/feed.rss?",
      "http://2130706433:8765/feed.rss",
      "http://0x7f.1:8765/feed.rss",
      "  http://127.0.0.1:8765/./feed.rss  ",
      "http://127.0.0.1:8765/%66eed.rss",
      "http://127.0.0.1:8765/fe%65d%2Erss",
    ]) {
      const res = await post({ url });
      expect({ url, status: res.status }).toEqual({ url, status: 409 });
      expect(((await res.json()) as Problem).detail).toContain(
        "http://127.0.0.1:8765/feed.rss already exists",
      );
    }
    expect((await listed()).sources.filter((s) => s.url.includes(":8765/")).map((s) => s.url)).toEqual([
      "http://127.0.0.1:8765/feed.rss",
    ]);
  });

  it("answers with the normal form it stored: scheme and host lower-cased, default port and fragment dropped", async () => {
    const res = await post({ url: "HTTPS://News.Example.ORG:443/a/../Feed.xml?x=1#latest" });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      url: "https://news.example.org/Feed.xml?x=1",
      name: "news.example.org",
    });
    // Escapes as RFC 3986 normalizes them: unreserved characters plain, the rest upper-case hex.
    const escaped = await post({ url: "https://news.example.org/%7euser/a%2fb%2D1.xml?q=%c3%a9" });
    expect(escaped.status).toBe(201);
    expect(await escaped.json()).toMatchObject({
      url: "https://news.example.org/~user/a%2Fb-1.xml?q=%C3%A9",
    });
  });

  it.each([
    ["url", { url: "http://127.0.0.1:8765/\ud800" }],
    ["url", { url: "http://127.0.0.1:8765/a\u0000b" }],
    ["name", { url: "https://surrogate.example.com/feed.xml", name: "\ud800" }],
    ["name", { url: "https://nul.example.com/feed.xml", name: "a\u0000b" }],
    ["outlet", { url: "https://outlet.example.com/feed.xml", outlet: "x\udc00y" }],
  ])("refuses text with a lone surrogate or a NUL in %s, naming the field", async (field, body) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors).toEqual([
      { location: `body.${field}`, message: expect.stringContaining("must be valid text") },
    ]);
    const sources = (await listed()).sources;
    expect(sources.some((s) => s.url === body.url || s.url.includes("%EF%BF%BD"))).toBe(false);
    expect(sources.some((s) => s.name.includes("\ufffd"))).toBe(false);
  });

  it("refuses fields a source input does not have, naming them, and stores nothing", async () => {
    const res = await post({ url: "https://strict.example.com/feed.xml", enabled: false, id: "x" });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem.detail).toContain('"enabled"');
    expect(problem.detail).toContain('"id"');
    expect(problem.errors).toEqual([{ location: "body", message: expect.stringContaining('"enabled"') }]);
    expect((await listed()).sources.some((s) => s.url.includes("strict.example.com"))).toBe(false);
  });

  it.each(["<b>xx</b>", "e", "en_US", "en-", "-en", "en--us", "abcdefghijklm", "en us"])(
    "refuses language %j, which is not a language tag",
    async (language) => {
      const res = await post({ url: "https://lang.example.com/feed.xml", language });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Problem).errors).toEqual([
        { location: "body.language", message: "must be a language tag such as en or pt-BR" },
      ]);
    },
  );

  it("takes a language tag such as pt-BR", async () => {
    const res = await post({ url: "https://tagged.example.com/feed.xml", language: "pt-BR" });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ language: "pt-BR" });
  });
});

describe("the OpenAPI document", () => {
  it("says a source input takes no other fields and what a language looks like", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as {
      components: { schemas: Record<string, { additionalProperties?: boolean; properties: object }> };
    };
    const input = doc.components.schemas.SourceInput!;
    expect(input.additionalProperties).toBe(false);
    expect(input.properties).toMatchObject({
      url: { type: "string", maxLength: 2048 },
      language: { type: "string", minLength: 2, maxLength: 12, pattern: expect.any(String) },
    });
  });
});
