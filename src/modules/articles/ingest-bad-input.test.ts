import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import { startHttpServer, streamBytes, type TestHttpServer } from "../../../test/http-server.ts";
import type { DbHandle } from "../../db/client.ts";
import { articles } from "../../db/schema/index.ts";
import { createHttpFetcher } from "../../integrations/http/fetcher.ts";
import { runIngest } from "../../jobs/pipeline.ts";
import { addSource, listSources, type Source } from "../sources/index.ts";

const NOW = "2026-11-27T06:30:00Z";
const MAX_BYTES = 1024 * 1024;
const HUGE_BYTES = 100 * 1024 * 1024;

let server: TestHttpServer;
let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let hugeWritten: number | undefined;
let flakyBroken = false;

const item = (fields: Record<string, string>) =>
  `<item>${Object.entries(fields)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join("")}</item>`;
const rss = (title: string, items: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>${title}</title><link>${server.origin}/</link>${items}</channel></rss>`;

/** A valid feed with two dated items whose links and texts belong to `name` alone. */
const goodFeed = (name: string) =>
  rss(
    `${name} news`,
    [1, 2]
      .map((n) =>
        item({
          guid: `${name}-${n}`,
          link: `${server.origin}/a/${name}/${n}`,
          title: `${name} report ${n}`,
          description: `Story ${n} as told by the ${name} desk.`,
          pubDate: `Fri, 27 Nov 2026 0${n}:00:00 GMT`,
        }),
      )
      .join(""),
  );

const BOMB = `<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY a "aaaaaaaaaa">
${Array.from({ length: 9 }, (_, n) => `<!ENTITY ${"b".repeat(n + 1)} "${`&${n === 0 ? "a" : "b".repeat(n)};`.repeat(10)}">`).join("\n")}
]>
<rss version="2.0"><channel><title>&bbbbbbbbb;</title><item><title>&bbbbbbbbb;</title><link>https://bomb.example/1</link></item></channel></rss>`;

beforeAll(async () => {
  server = await startHttpServer(async (req, res) => {
    const send = (type: string, body: string) => res.writeHead(200, { "content-type": type }).end(body);
    switch (req.url) {
      case "/good.xml":
        return send("application/rss+xml", goodFeed("good"));
      case "/malformed.xml":
        return send("application/rss+xml", rss("Broken", "<item><title>Unclosed</link></item>"));
      case "/bomb.xml":
        return send("application/rss+xml", BOMB);
      case "/huge.xml":
        res.writeHead(200, { "content-type": "application/rss+xml" });
        hugeWritten = await streamBytes(res, HUGE_BYTES, Buffer.alloc(64 * 1024, 0x20));
        return;
      case "/page.html":
        return send(
          "text/html",
          "<!DOCTYPE html><html><head><title>Welcome</title></head><body>Hi</body></html>",
        );
      case "/feed-as-html":
        return send("text/html; charset=utf-8", goodFeed("htmltyped"));
      case "/feed-as-octets":
        return send("application/octet-stream", goodFeed("octets"));
      case "/bad-dates.xml":
        return send(
          "application/rss+xml",
          rss(
            "Dates",
            item({ link: `${server.origin}/a/dates/1`, title: "Undated item" }) +
              item({ link: `${server.origin}/a/dates/2`, title: "Garbled date", pubDate: "yesterday-ish" }) +
              item({
                link: `${server.origin}/a/dates/3`,
                title: "Impossible date",
                pubDate: "2026-13-45T99:00:00Z",
              }),
          ),
        );
      case "/dup-guids.xml":
        return send(
          "application/rss+xml",
          rss(
            "Dups",
            item({ guid: "same", link: `${server.origin}/a/dup/1`, title: "First telling" }) +
              item({ guid: "same", link: `${server.origin}/a/dup/1`, title: "First telling, repeated" }) +
              item({
                guid: "same",
                link: `${server.origin}/a/dup/2`,
                title: "A different article, same guid",
              }),
          ),
        );
      case "/control-chars.xml":
        // A NUL and other control characters in one item: no PostgreSQL text can hold a NUL.
        return send(
          "application/rss+xml",
          rss(
            "Controls",
            item({
              link: `${server.origin}/a/ctl/1`,
              title: "Null\u0000 byte",
              description: "Bell\u0007 and NUL\u0000.",
            }) + item({ link: `${server.origin}/a/ctl/2`, title: "Clean item", description: "Nothing odd." }),
          ),
        );
      case "/long-fields.xml":
        // A link no unique index can hold (PostgreSQL caps an index entry near 2.7 KB; random
        // characters do not compress below that) and a 50 KB GUID, beside an ordinary item.
        return send(
          "application/rss+xml",
          rss(
            "Long",
            item({
              link: `${server.origin}/a/long/${randomBytes(5_000).toString("hex")}`,
              title: "Endless link",
            }) + item({ guid: "g".repeat(50_000), link: `${server.origin}/a/long/ok`, title: "Long guid" }),
          ),
        );
      case "/hostile-text.json":
        // One field of each kind no PostgreSQL text holds, or a reader should not see, beside an
        // ordinary item: each used to fail the whole feed's insert (or reach every email).
        return send(
          "application/feed+json",
          `{"version":"https://jsonfeed.org/version/1.1","title":"<script>x</script>Evil\\u0000 Outlet ${"t".repeat(5_000)}",
            "items":[
              {"id":"s1","url":"${server.origin}/a/hostile/1","title":"Lone \\ud800 surrogate \\u202Egnirts\\u202C","content_text":"Body one.","authors":[{"name":"Bad \\udc00 author"}]},
              {"id":"s2","url":"${server.origin}/a/hostile/2","title":"Year minus one","content_text":"Body two.","date_published":"-000001-01-01T00:00:00Z"},
              {"id":"s3","url":"${server.origin}/a/hostile/3","title":"Ordinary neighbour","content_text":"Body three."}]}`,
        );
      case "/many.xml":
        // 600 dated items, oldest first: only the newest 500 are read.
        return send(
          "application/rss+xml",
          rss(
            "Many",
            Array.from({ length: 600 }, (_, n) =>
              item({
                link: `${server.origin}/a/many/${n}`,
                title: `Item number ${n}`,
                pubDate: new Date(Date.parse(NOW) - (600 - n) * 60_000).toUTCString(),
              }),
            ).join(""),
          ),
        );
      case "/to-metadata":
        return void res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
      case "/flaky.xml":
        return flakyBroken
          ? send("application/rss+xml", "<rss><channel>")
          : send("application/rss+xml", goodFeed("flaky"));
      default:
        res.writeHead(404).end();
    }
  });
  db = await createTestDb();
  deps = await createTestDeps(db, {
    now: NOW,
    // Feeds only: teaser pages are another test's business.
    env: { FETCH_FULL_TEXT: "false", FETCH_ALLOW_HOSTS: "127.0.0.1" },
    fetcher: createHttpFetcher({
      userAgent: "test",
      // Only the test server's loopback address is admitted; any other private target is refused.
      allowHosts: ["127.0.0.1"],
      maxBytes: MAX_BYTES,
      hostDelayMs: 0,
      retryDelayMs: 0,
      timeoutMs: 5000,
    }),
  });
});
afterAll(async () => {
  await server.close();
  await db.close();
});

const paths = {
  good: "/good.xml",
  malformed: "/malformed.xml",
  bomb: "/bomb.xml",
  huge: "/huge.xml",
  html: "/page.html",
  feedAsHtml: "/feed-as-html",
  feedAsOctets: "/feed-as-octets",
  badDates: "/bad-dates.xml",
  dupGuids: "/dup-guids.xml",
  controlChars: "/control-chars.xml",
  longFields: "/long-fields.xml",
  hostileText: "/hostile-text.json",
  many: "/many.xml",
  toPrivate: "/to-metadata",
  flaky: "/flaky.xml",
} as const;
type Name = keyof typeof paths;

const expectedErrors: Partial<Record<Name, string>> = {
  malformed: "not a feed: malformed XML",
  bomb: "not a feed: entity declarations are not allowed",
  huge: `response too large: over ${MAX_BYTES} bytes`,
  html: "not a feed: the URL returned an HTML page",
  toPrivate: "refused to fetch 169.254.169.254: private address",
};

const sourceRows = async () => {
  const all = await listSources(deps);
  const byName = {} as Record<Name, Source>;
  for (const [name, path] of Object.entries(paths))
    byName[name as Name] = all.find((s) => s.url.endsWith(path))!;
  return byName;
};
const articlesOf = (source: Source) =>
  deps.db.select().from(articles).where(eq(articles.sourceId, source.id));

describe("ingesting bad input alongside good sources", () => {
  let firstRun: Awaited<ReturnType<typeof runIngest>>;
  beforeAll(async () => {
    for (const path of Object.values(paths)) await addSource(deps, { url: server.url(path) });
    firstRun = await runIngest(deps);
  });

  it("records each bad source's failure with a clear message and stores the good sources' articles", async () => {
    expect(firstRun.sources).toBe(15);
    expect(firstRun.failed).toBe(Object.keys(expectedErrors).length);

    const rows = await sourceRows();
    const now = deps.clock.now().getTime();
    for (const [name, message] of Object.entries(expectedErrors)) {
      const row = rows[name as Name];
      expect({ name, lastError: row.lastError }).toEqual({
        name,
        lastError: expect.stringContaining(message),
      });
      expect(row.consecutiveFailures).toBe(1);
      expect(row.nextFetchAt!.getTime()).toBeGreaterThan(now);
      expect(await articlesOf(row)).toHaveLength(0);
    }
    // A valid feed parses whatever content type it is served with.
    const served = { good: "good", feedAsHtml: "htmltyped", feedAsOctets: "octets", flaky: "flaky" } as const;
    for (const [name, feed] of Object.entries(served)) {
      const row = rows[name as Name];
      expect(row).toMatchObject({ consecutiveFailures: 0, lastError: null });
      expect((await articlesOf(row)).map((a) => a.title).sort()).toEqual([
        `${feed} report 1`,
        `${feed} report 2`,
      ]);
    }
  });

  it("stops reading a 100 MB response at the size cap", async () => {
    await expect.poll(() => hugeWritten).toBeDefined();
    expect(hugeWritten!).toBeLessThan(HUGE_BYTES);
  });

  it("stores items with missing or unreadable dates as published at fetch time", async () => {
    const rows = await sourceRows();
    const stored = await articlesOf(rows.badDates);
    expect(stored).toHaveLength(3);
    for (const a of stored) expect(a.publishedAt.toISOString()).toBe(new Date(NOW).toISOString());
  });

  it("stores an item repeated under one GUID once, and a different article sharing that GUID too", async () => {
    const rows = await sourceRows();
    const stored = await articlesOf(rows.dupGuids);
    expect(stored.map((a) => a.url).sort()).toEqual([server.url("/a/dup/1"), server.url("/a/dup/2")]);
    expect(stored.find((a) => a.url.endsWith("/dup/1"))!.title).toBe("First telling");
  });

  it("stores items holding control characters without them, and the rest of their feed", async () => {
    const rows = await sourceRows();
    expect(rows.controlChars).toMatchObject({ consecutiveFailures: 0, lastError: null });
    const stored = await articlesOf(rows.controlChars);
    expect(stored.map((a) => [a.title, a.content]).sort()).toEqual([
      ["Clean item", "Nothing odd."],
      ["Null byte", "Bell and NUL."],
    ]);
  });

  it("skips an item whose link is too long to be an article's address, cuts a long GUID, keeps the feed", async () => {
    const rows = await sourceRows();
    expect(rows.longFields).toMatchObject({ consecutiveFailures: 0, lastError: null });
    const stored = await articlesOf(rows.longFields);
    expect(stored.map((a) => [a.title, a.url, a.guid?.length])).toEqual([
      ["Long guid", server.url("/a/long/ok"), 1000],
    ]);
  });

  it("stores a feed whose text no database or reader should take, cleaned, with every item", async () => {
    const rows = await sourceRows();
    expect(rows.hostileText).toMatchObject({ consecutiveFailures: 0, lastError: null });
    const stored = (await articlesOf(rows.hostileText)).sort((a, b) => a.url.localeCompare(b.url));
    expect(stored.map((a) => a.title)).toEqual([
      "Lone \uFFFD surrogate gnirts",
      "Year minus one",
      "Ordinary neighbour",
    ]);
    expect(stored[0]!.author).toBe("Bad \uFFFD author");
    // The feed's title names the outlet: plain text, no NUL, capped.
    expect(stored[0]!.outlet.startsWith("Evil Outlet ttt")).toBe(true);
    expect(stored[0]!.outlet.length).toBeLessThanOrEqual(200);
    // A date before 1900 is a feed's error: the fetch time stands in.
    expect(stored[1]!.publishedAt.toISOString()).toBe(new Date(NOW).toISOString());
  });

  it("reads the newest 500 entries of a feed that holds more", async () => {
    const rows = await sourceRows();
    const stored = await articlesOf(rows.many);
    expect(stored).toHaveLength(500);
    expect(stored.some((a) => a.title === "Item number 99")).toBe(false);
    expect(stored.some((a) => a.title === "Item number 100")).toBe(true);
  });

  it("keeps a source's earlier articles when it later fails, and counts failures up", async () => {
    flakyBroken = true;
    deps.clock.advance(60 * 60_000);
    const run = await runIngest(deps);
    expect(run.failed).toBe(Object.keys(expectedErrors).length + 1);
    const rows = await sourceRows();
    expect(rows.flaky.lastError).toMatch(/^not a feed: /);
    expect(rows.flaky.consecutiveFailures).toBe(1);
    expect(rows.flaky.nextFetchAt!.getTime()).toBeGreaterThan(deps.clock.now().getTime());
    expect(await articlesOf(rows.flaky)).toHaveLength(2);
    expect(rows.bomb.consecutiveFailures).toBe(2);
    expect(rows.good).toMatchObject({ consecutiveFailures: 0, lastError: null });
  });
});
