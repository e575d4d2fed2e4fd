import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testArticle } from "../../../test/articles.ts";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import type { DbHandle } from "../../db/client.ts";
import { stories } from "../../db/schema/index.ts";
import { storeArticles } from "../articles/index.ts";
import { clusterArticles, StoryWindowCache } from "./stories.service.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
beforeAll(async () => {
  db = await createTestDb();
  deps = await createTestDeps(db);
});
afterAll(async () => {
  await db.close();
});

const strike = (outlet: string, extra: string) =>
  testArticle(
    `https://${outlet}.example/strike`,
    "Rotterdam and Antwerp dockworkers strike over crane automation",
    `Dockworkers at Rotterdam and Antwerp began a strike over automated cranes. ${extra}`,
    { outlet },
  );
const outage = (outlet: string, extra: string) =>
  testArticle(
    `https://${outlet}.example/outage`,
    "Nimbara Cloud outage knocks payment systems offline",
    `A configuration change at Nimbara Cloud took down identity services in its Frankfurt region. ${extra}`,
    { outlet },
  );

describe("clusterArticles with a window cached per worker", () => {
  it("sees the stories another worker created or changed since its last run", async () => {
    const workerA = new StoryWindowCache();
    const workerB = new StoryWindowCache();
    await storeArticles(deps, null, [strike("first", "Shipping lines warned of delays.")]);
    await clusterArticles(deps, workerA);
    // Worker B adds a report to A's story (new terms) and starts a story A has never seen.
    await storeArticles(deps, null, [
      strike("second", "Forwarders rerouted containers to Hamburg."),
      outage("third", "Airline check-in failed for hours."),
    ]);
    await clusterArticles(deps, workerB);
    await storeArticles(deps, null, [
      strike("fourth", "Retailers fear late spring stock."),
      outage("fifth", "Card payments were declined across Europe."),
    ]);
    await clusterArticles(deps, workerA);

    const held = await deps.db.select().from(stories);
    expect(held.map((s) => s.articleCount).sort()).toEqual([2, 3]);
    const strikeStory = held.find((s) => s.articleCount === 3)!;
    // A's write kept what B had added: it reloaded the story before joining to it.
    expect(Object.keys(strikeStory.terms)).toContain("forwarder");
    expect(Object.keys(strikeStory.terms)).toContain("retailer");
    expect(strikeStory.revision).toBe(3);
  });
});
