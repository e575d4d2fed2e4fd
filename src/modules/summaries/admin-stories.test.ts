import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testArticle } from "../../../test/articles.ts";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import type { DbHandle } from "../../db/client.ts";
import { storeArticles } from "../articles/index.ts";
import { clusterArticles } from "../stories/index.ts";
import { listStoriesWithSources } from "./summaries.service.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
beforeAll(async () => {
  db = await createTestDb();
  // Today is years after the news: a backfill of an archive, or an evaluation corpus.
  deps = await createTestDeps(db, { now: "2026-11-27T06:30:00Z" });
});
afterAll(async () => {
  await db.close();
});

const wire =
  "Dockworkers at Rotterdam and Antwerp began a 72-hour strike on Thursday over plans to expand automated cranes, " +
  "unions said. Shipping lines including Maersk warned customers of delays of up to a week for Asia-Europe cargo, " +
  "and forwarders said spot rates for a 40-foot container from Shanghai had risen by about 20 percent since Monday. " +
  "Port authorities said dozens of ships were expected to wait at anchor while talks continued in The Hague.";

describe("the admin story listing", () => {
  it("lists old stories without a 'since', with every URL their articles were seen at", async () => {
    const at = { publishedAt: "2021-09-02T08:00:00Z", now: "2021-09-02T09:00:00Z" };
    await storeArticles(deps, null, [
      testArticle("https://wire.example/a/strike", "Dockworkers strike at Rotterdam", wire, {
        ...at,
        outlet: "Wire",
      }),
      // Another outlet re-runs the wire copy: stored as one more appearance of the same article.
      testArticle(
        "https://daily.example/news/strike",
        "Dockworkers strike at Rotterdam",
        wire.replace("Thursday", "Thursday morning"),
        { ...at, outlet: "Daily" },
      ),
    ]);
    await clusterArticles(deps);
    const stories = await listStoriesWithSources(deps);
    expect(stories).toHaveLength(1);
    expect(stories[0]!.sources.map((s) => s.url).sort()).toEqual([
      "https://daily.example/news/strike",
      "https://wire.example/a/strike",
    ]);
    expect(await listStoriesWithSources(deps, new Date("2026-11-24T00:00:00Z"))).toHaveLength(0);
  });
});
