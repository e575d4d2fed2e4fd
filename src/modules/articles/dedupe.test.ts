import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testArticle, WIRE_STRIKE } from "../../../test/articles.ts";
import { createTestDb, whileLocked } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import type { DbHandle } from "../../db/client.ts";
import { articleAppearances, articles } from "../../db/schema/index.ts";
import { storeArticles } from "./articles.service.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
beforeAll(async () => {
  db = await createTestDb();
  deps = await createTestDeps(db);
});
afterAll(async () => {
  await db.close();
});

const wire = WIRE_STRIKE;

const article = (
  url: string,
  outlet: string,
  body: string,
  title = "Rotterdam and Antwerp dockworkers strike",
) => testArticle(url, title, body, { outlet });

describe("storeArticles", () => {
  it("keeps one article for a URL seen again with tracking parameters, and for a wire copy", async () => {
    const first = await storeArticles(deps, null, [article("https://wire.example/a/strike", "Wire", wire)]);
    expect(first.added).toBe(1);
    const again = await storeArticles(deps, null, [
      article("https://wire.example/a/strike?utm_source=rss&utm_medium=feed#top", "Wire", wire),
      // Another outlet re-runs the wire copy with its own intro word changed: a near duplicate.
      article("https://daily.example/news/strike", "Daily", wire.replace("Thursday", "Thursday morning")),
      // Same text, other URL: an exact duplicate by content.
      article("https://other.example/strike-copy", "Other", wire),
    ]);
    expect(again).toMatchObject({ added: 0, duplicates: 3 });
    const [held] = await deps.db
      .select()
      .from(articles)
      .where(eq(articles.url, "https://wire.example/a/strike"));
    const seen = await deps.db
      .select()
      .from(articleAppearances)
      .where(eq(articleAppearances.articleId, held!.id));
    expect(seen.map((s) => s.outlet).sort()).toEqual(["Daily", "Other", "Wire"]);
  });

  it("stores a different report of the same event as its own article", async () => {
    const own =
      "Freight forwarders in Hamburg said they were rerouting containers away from the Dutch and Belgian ports " +
      "as the strike began, while retailers warned that spring stock could arrive late. Analysts at a shipping " +
      "consultancy expect the backlog to take two weeks to clear after the walkout ends.";
    const r = await storeArticles(deps, null, [
      article("https://port.example/strike-reroute", "Port News", own),
    ]);
    expect(r.added).toBe(1);
  });

  it("dedupes within one batch too", async () => {
    const text = `${wire} A second paragraph makes this a distinct text for the batch test.`;
    const r = await storeArticles(deps, null, [
      article("https://batch.example/1", "Batch", text, "Batch one"),
      article("https://batch.example/1?fbclid=xyz", "Batch", text, "Batch one"),
    ]);
    expect(r).toMatchObject({ added: 1, duplicates: 1 });
  });

  // Both lookups are held until both were asked (a second session locks the table): real PostgreSQL only.
  it.skipIf(!process.env.TEST_DATABASE_URL)(
    "stores a wire copy once when two feeds carrying it are stored at the same moment",
    async () => {
      const text = `${wire} Both feeds ran this closing line of the agency's copy at the same minute.`;
      const store = (url: string, outlet: string) =>
        storeArticles(deps, null, [article(url, outlet, text, "Strike at the ports")]);
      let stores: ReturnType<typeof store>[] = [];
      await whileLocked(db, ["articles"], async () => {
        stores = [
          store("https://north.example/strike", "North"),
          store("https://south.example/strike", "South"),
        ];
        await new Promise((resolve) => setTimeout(resolve, 200));
      });
      const [a, b] = await Promise.all(stores);
      expect(a!.added + b!.added).toBe(1);
      expect(a!.duplicates + b!.duplicates).toBe(1);
      const held = await deps.db
        .select()
        .from(articles)
        .where(eq(articles.id, [...a!.ids, ...b!.ids][0]!));
      const copies = await deps.db
        .select()
        .from(articles)
        .where(eq(articles.contentHash, held[0]!.contentHash));
      expect(copies).toHaveLength(1);
      const seen = await deps.db
        .select()
        .from(articleAppearances)
        .where(eq(articleAppearances.articleId, held[0]!.id));
      expect(seen.map((s) => s.outlet).sort()).toEqual(["North", "South"]);
    },
  );
});
