import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import type { DbHandle } from "../../db/client.ts";
import { articleAppearances, articles } from "../../db/schema/index.ts";
import { createHttpFetcher } from "../../integrations/http/fetcher.ts";
import { addSource } from "../sources/index.ts";
import { ingestSource } from "./articles.service.ts";

const paragraph =
  "The regional water authority approved a plan on Tuesday to build two desalination plants on the coast, " +
  "at a cost the authority put at 1.2 billion euros over six years. Officials said the plants would supply " +
  "a third of the region's drinking water by 2031 and reduce pumping from aquifers that have fallen sharply.";

const ferryText =
  "The island ferry operator will run its winter timetable from Monday, with the first crossing leaving " +
  "at half past six and the last returning before nine in the evening. Commuters said the earlier start " +
  "helps shift workers, while shop owners on the island worry about fewer evening visitors until spring.";

let db: DbHandle;
let base = "";
let server: ReturnType<typeof createServer>;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let pageHits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/canonical-feed.xml") {
      // Two links to one article (a section path and a tracking variant), both teasers.
      res
        .writeHead(200, { "content-type": "application/rss+xml" })
        .end(`<?xml version="1.0"?><rss version="2.0"><channel><title>Coast News</title><link>${base}/</link>
<item><title>Harbour dredging starts</title><link>${base}/local/dredging?from=rss</link><description>Work begins.</description><pubDate>Fri, 27 Nov 2026 05:30:00 GMT</pubDate></item>
<item><title>Harbour dredging starts</title><link>${base}/amp/dredging</link><description>Work begins today.</description><pubDate>Fri, 27 Nov 2026 05:31:00 GMT</pubDate></item>
<item><title>Ferry timetable changes</title><link>${base}/ferries</link><description>New times.</description><pubDate>Fri, 27 Nov 2026 05:32:00 GMT</pubDate></item>
<item><title>Pilot boats on strike</title><link>${base}/pilots</link><description>Strike.</description><pubDate>Fri, 27 Nov 2026 05:33:00 GMT</pubDate></item>
</channel></rss>`);
      return;
    }
    if (req.url === "/pilots") {
      pageHits++;
      // A canonical on another port of the same host (here, PostgreSQL's) is not the site's own.
      const other = new URL(base);
      other.port = "5432";
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end(
          `<html lang="en"><head><title>Pilots</title><link rel="canonical" href="${other.origin}/secret"></head><body><article><h1>Pilot boats on strike</h1><p>${ferryText}</p><p>${ferryText}</p></article></body></html>`,
        );
      return;
    }
    if (req.url === "/ferries") {
      pageHits++;
      // A site that names its home page as every page's canonical.
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end(
          `<html lang="en"><head><title>Ferries</title><link rel="canonical" href="/"></head><body><article><h1>Ferry timetable changes</h1><p>${ferryText}</p><p>${ferryText}</p></article></body></html>`,
        );
      return;
    }
    if (req.url === "/local/dredging?from=rss" || req.url === "/amp/dredging") {
      pageHits++;
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end(
          `<html lang="en"><head><title>Dredging</title><link rel="canonical" href="/2026/11/27/harbour-dredging"></head><body><article><h1>Harbour dredging starts</h1><p>${paragraph.replace(/water/g, "harbour")}</p><p>${paragraph}</p></article></body></html>`,
        );
      return;
    }
    if (req.url === "/feed.xml") {
      res
        .writeHead(200, { "content-type": "application/rss+xml" })
        .end(`<?xml version="1.0"?><rss version="2.0"><channel><title>Coast News</title><link>${base}/</link>
<item><title>Water authority backs desalination plants</title><link>${base}/water</link><description>Two plants approved.</description><pubDate>Fri, 27 Nov 2026 05:00:00 GMT</pubDate></item>
<item><title>Members-only analysis of the plan</title><link>${base}/locked</link><description>Subscribe to read.</description><pubDate>Fri, 27 Nov 2026 05:10:00 GMT</pubDate></item>
<item><title>A page that is gone</title><link>${base}/gone</link><description>Short teaser.</description><pubDate>Fri, 27 Nov 2026 05:20:00 GMT</pubDate></item>
</channel></rss>`);
      return;
    }
    pageHits++;
    if (req.url === "/water") {
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end(
          `<html lang="en"><head><title>Water</title></head><body><nav>Home | News</nav><article><h1>Water authority backs desalination plants</h1><p>${paragraph}</p><p>${paragraph}</p></article><footer>(c) Coast News</footer></body></html>`,
        );
    } else if (req.url === "/locked") res.writeHead(402).end("Payment required");
    else res.writeHead(404).end("not found");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  db = await createTestDb();
  deps = await createTestDeps(db, {
    now: "2026-11-27T06:00:00Z",
    env: { FETCH_ALLOW_PRIVATE: "true" },
    fetcher: createHttpFetcher({ userAgent: "test", allowPrivate: true, hostDelayMs: 0, retryDelayMs: 0 }),
  });
});
afterAll(async () => {
  server.close();
  await db.close();
});

describe("teasers", () => {
  it("fetches the article page for a teaser, marks paywalled and unreachable ones, and fetches each once", async () => {
    const source = await addSource(deps, { url: `${base}/feed.xml` });
    const r = await ingestSource(deps, source);
    expect(r).toMatchObject({ status: "ok", added: 3 });
    const rows = await deps.db.select().from(articles);
    const byPath = (p: string) => rows.find((a) => a.url === `${base}${p}`)!;
    expect(byPath("/water")).toMatchObject({ status: "ok" });
    expect(byPath("/water").content).toContain("desalination plants on the coast");
    expect(byPath("/water").content).not.toContain("Home | News");
    expect(byPath("/water").wordCount).toBeGreaterThan(80);
    expect(byPath("/locked").status).toBe("paywalled");
    expect(byPath("/gone").status).toBe("unreachable");
    expect(byPath("/gone").content).toBe("Short teaser.");

    const hits = pageHits;
    const [again] = await deps.db
      .select()
      .from(articles)
      .where(eq(articles.url, `${base}/water`));
    expect(again).toBeTruthy();
    await ingestSource(deps, { ...source, etag: null, lastModified: null });
    expect(pageHits).toBe(hits);
  });

  it("honours a page's rel=canonical on its site: links to one article become one article seen twice", async () => {
    const source = await addSource(deps, { url: `${base}/canonical-feed.xml` });
    const r = await ingestSource(deps, source);
    expect(r).toMatchObject({ status: "ok", added: 3, duplicates: 1 });
    const [pilots] = await deps.db
      .select()
      .from(articles)
      .where(eq(articles.url, `${base}/pilots`));
    expect(pilots?.status).toBe("ok");
    // A home-page canonical is no article's identity: the ferry story keeps its own link.
    const [ferries] = await deps.db
      .select()
      .from(articles)
      .where(eq(articles.url, `${base}/ferries`));
    expect(ferries?.status).toBe("ok");
    const [held] = await deps.db
      .select()
      .from(articles)
      .where(eq(articles.url, `${base}/2026/11/27/harbour-dredging`));
    expect(held?.status).toBe("ok");
    const seen = await deps.db
      .select({ url: articleAppearances.url })
      .from(articleAppearances)
      .where(eq(articleAppearances.articleId, held!.id));
    expect(seen.map((a) => a.url).sort()).toEqual([
      `${base}/amp/dredging`,
      `${base}/local/dredging?from=rss`,
    ]);

    // The next fetch knows both links: no page is fetched again.
    const hits = pageHits;
    expect(await ingestSource(deps, { ...source, etag: null, lastModified: null })).toMatchObject({
      added: 0,
    });
    expect(pageHits).toBe(hits);
  });
});
