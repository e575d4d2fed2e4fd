import { and, eq, gte, inArray, isNotNull, isNull } from "drizzle-orm";
import { articleAppearances, articles } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { describeError } from "../../lib/errors.ts";
import { hammingDistance } from "../../lib/simhash.ts";
import { recordFetchFailure, recordFetchSuccess, type Source } from "../sources/index.ts";
import { decodeBody, parseFeed } from "./feed.parser.ts";
import { type NormalizedArticle, normalizeEntry } from "./normalize.ts";

export type Article = typeof articles.$inferSelect;

export type SourceIngestResult =
  | { sourceId: string; status: "ok"; fetched: number; added: number; duplicates: number; skipped: string[] }
  | { sourceId: string; status: "not_modified" }
  | { sourceId: string; status: "failed"; error: string };

// Wire copies differ from each other in only a few of 64 bits.
const NEAR_DUPLICATE_BITS = 3;
const DEDUPE_WINDOW_MS = 72 * 3600_000;

/** Fetch one source, parse it, store its new articles; the outcome is recorded on the source. */
export async function ingestSource(
  deps: Pick<Deps, "db" | "clock" | "fetcher" | "logger">,
  source: Source,
): Promise<SourceIngestResult> {
  try {
    const res = await deps.fetcher.get({
      url: source.url,
      etag: source.etag,
      lastModified: source.lastModified,
    });
    if (res.notModified) {
      await recordFetchSuccess(deps, source, { etag: source.etag, lastModified: source.lastModified });
      return { sourceId: source.id, status: "not_modified" };
    }
    if (res.status >= 400) throw new Error(`the feed answered HTTP ${res.status}`);
    const feed = parseFeed(decodeBody(res.body, res.contentType));
    const now = deps.clock.now();
    const ctx = {
      feedUrl: res.url,
      outlet: source.outlet ?? feed.title ?? source.name,
      language: source.language ?? feed.language,
      now,
    };
    const normalized: NormalizedArticle[] = [];
    const skipped: string[] = [];
    for (const entry of feed.entries) {
      const r = normalizeEntry(entry, ctx);
      if (r.ok) normalized.push(r.article);
      else skipped.push(r.reason);
    }
    const { added, duplicates } = await storeArticles(deps, source.id, normalized);
    await recordFetchSuccess(deps, source, { etag: res.etag, lastModified: res.lastModified });
    return { sourceId: source.id, status: "ok", fetched: feed.entries.length, added, duplicates, skipped };
  } catch (err) {
    const message = describeError(err);
    deps.logger.warn({ sourceId: source.id, url: source.url, err: message }, "source fetch failed");
    await recordFetchFailure(deps, source, message);
    return { sourceId: source.id, status: "failed", error: message };
  }
}

/**
 * Stores articles once: an exact duplicate (same canonical URL or same text) or a near-duplicate
 * (SimHash within a few bits, i.e. a wire copy) becomes an appearance of the article already held.
 * One transaction per batch: a failure leaves nothing half-written.
 */
export async function storeArticles(
  deps: Pick<Deps, "db" | "clock">,
  sourceId: string | null,
  batch: NormalizedArticle[],
): Promise<{ added: number; duplicates: number; ids: string[] }> {
  if (batch.length === 0) return { added: 0, duplicates: 0, ids: [] };
  const since = new Date(deps.clock.now().getTime() - DEDUPE_WINDOW_MS);
  return deps.db.transaction(async (tx) => {
    const urls = batch.map((a) => a.url);
    const hashes = batch.map((a) => a.contentHash);
    const known = await tx
      .select({ id: articles.id, url: articles.url, contentHash: articles.contentHash })
      .from(articles)
      .where(inArray(articles.url, urls));
    const byHash = await tx
      .select({ id: articles.id, contentHash: articles.contentHash })
      .from(articles)
      .where(inArray(articles.contentHash, hashes));
    const recent = await tx
      .select({ id: articles.id, simhash: articles.simhash })
      .from(articles)
      .where(and(gte(articles.publishedAt, since), isNotNull(articles.simhash)));
    const urlIndex = new Map(known.map((k) => [k.url, k.id]));
    const hashIndex = new Map(byHash.map((k) => [k.contentHash, k.id]));
    let added = 0;
    let duplicates = 0;
    const ids: string[] = [];
    for (const a of batch) {
      if (urlIndex.has(a.url)) {
        duplicates++;
        continue;
      }
      const twin =
        hashIndex.get(a.contentHash) ??
        (a.wordCount >= 40
          ? recent.find(
              (r) => r.simhash !== null && hammingDistance(r.simhash, a.simhash) <= NEAR_DUPLICATE_BITS,
            )?.id
          : undefined);
      if (twin) {
        await tx
          .insert(articleAppearances)
          .values({ articleId: twin, sourceId, url: a.url, outlet: a.outlet })
          .onConflictDoNothing();
        urlIndex.set(a.url, twin);
        duplicates++;
        continue;
      }
      const [row] = await tx
        .insert(articles)
        .values({ ...a, sourceId })
        .onConflictDoNothing()
        .returning({ id: articles.id });
      if (!row) {
        duplicates++;
        continue;
      }
      await tx
        .insert(articleAppearances)
        .values({ articleId: row.id, sourceId, url: a.url, outlet: a.outlet });
      urlIndex.set(a.url, row.id);
      hashIndex.set(a.contentHash, row.id);
      recent.push({ id: row.id, simhash: a.simhash });
      ids.push(row.id);
      added++;
    }
    return { added, duplicates, ids };
  });
}

/** Articles not yet grouped into a story, oldest first. */
export function unassignedArticles(deps: Pick<Deps, "db">, limit = 5000): Promise<Article[]> {
  return deps.db
    .select()
    .from(articles)
    .where(isNull(articles.storyId))
    .orderBy(articles.publishedAt)
    .limit(limit);
}

export function articlesOfStories(deps: Pick<Deps, "db">, storyIds: string[]): Promise<Article[]> {
  if (storyIds.length === 0) return Promise.resolve([]);
  return deps.db
    .select()
    .from(articles)
    .where(inArray(articles.storyId, storyIds))
    .orderBy(articles.publishedAt);
}

export async function assignArticleToStory(deps: Pick<Deps, "db">, articleId: string, storyId: string) {
  await deps.db.update(articles).set({ storyId }).where(eq(articles.id, articleId));
}
