import { describe, expect, it } from "vitest";
import { testArticle, WIRE_STRIKE as wire } from "../../../test/articles.ts";
import { useTestDeps } from "../../../test/deps.ts";
import { storeArticles } from "../articles/index.ts";
import { clusterArticles } from "../stories/index.ts";
import { listStoriesWithSources } from "./summaries.service.ts";

// Today is years after the news: a backfill of an archive, or an evaluation corpus.
const t = useTestDeps({ now: "2026-11-27T06:30:00Z" });

describe("the admin story listing", () => {
  it("lists old stories without a 'since', with every URL their articles were seen at", async () => {
    const at = { publishedAt: "2021-09-02T08:00:00Z", now: "2021-09-02T09:00:00Z" };
    await storeArticles(t.deps, null, [
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
    await clusterArticles(t.deps);
    const stories = await listStoriesWithSources(t.deps);
    expect(stories).toHaveLength(1);
    expect(stories[0]!.sources.map((s) => s.url).sort()).toEqual([
      "https://daily.example/news/strike",
      "https://wire.example/a/strike",
    ]);
    expect(await listStoriesWithSources(t.deps, new Date("2026-11-24T00:00:00Z"))).toHaveLength(0);
  });
});
