import type { Deps } from "../deps.ts";
import { ingestSource, type SourceIngestResult } from "../modules/articles/index.ts";
import { dueSources, listSources } from "../modules/sources/index.ts";
import { clusterArticles, type StoryWindowCache } from "../modules/stories/index.ts";
import { storiesToSummarize, summarizeStory } from "../modules/summaries/index.ts";

export type IngestSummary = {
  sources: number;
  failed: number;
  articles: number;
  stories: number;
  summarized: number;
  results: SourceIngestResult[];
};

// Different hosts are fetched side by side; a slow feed does not hold the others up.
const FETCH_CONCURRENCY = 4;

/**
 * The ingestion run: fetch sources (all, or only those due), store new articles, group them
 * into stories, and summarize every story that changed. Each stage reads what the last wrote.
 */
export async function runIngest(
  deps: Pick<Deps, "db" | "clock" | "fetcher" | "logger" | "llm" | "config">,
  opts: {
    onlyDue?: boolean;
    onProgress?: (done: number, total: number) => void;
    /** The process's clustering window, kept between runs. */
    storyWindow?: StoryWindowCache;
  } = {},
): Promise<IngestSummary> {
  const sources = (opts.onlyDue ? await dueSources(deps) : await listSources(deps)).filter((s) => s.enabled);
  const results: SourceIngestResult[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(FETCH_CONCURRENCY, sources.length) }, async () => {
      while (next < sources.length) {
        const source = sources[next++]!;
        results.push(await ingestSource(deps, source));
        opts.onProgress?.(results.length, sources.length);
      }
    }),
  );
  const grouped = await groupAndSummarize(deps, opts.storyWindow);
  const summary = {
    sources: sources.length,
    failed: results.filter((r) => r.status === "failed").length,
    articles: results.reduce((n, r) => n + (r.status === "ok" ? r.added : 0), 0),
    stories: grouped.stories,
    summarized: grouped.summarized,
    results,
  };
  deps.logger.info({ ...summary, results: undefined }, "ingest finished");
  return summary;
}

/** Groups articles not yet in a story and summarizes every story that changed. */
export async function groupAndSummarize(
  deps: Pick<Deps, "db" | "clock" | "logger" | "llm">,
  storyWindow?: StoryWindowCache,
): Promise<{ stories: number; summarized: number; storyIds: string[] }> {
  const clustered = await clusterArticles(deps, storyWindow);
  let summarized = 0;
  for (const storyId of await storiesToSummarize(deps, clustered.storyIds)) {
    const r = await summarizeStory(deps, storyId);
    if (r.status === "created") summarized++;
  }
  return { stories: clustered.created + clustered.updated, summarized, storyIds: clustered.storyIds };
}
