import { and, eq, gte, inArray, isNull, or } from "drizzle-orm";
import { articleAppearances, articles } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { describeError } from "../../lib/errors.ts";
import { hammingDistance, simhash, simhashBands } from "../../lib/simhash.ts";
import { recordFetchFailure, recordFetchSuccess, type Source } from "../sources/index.ts";
import { fetchArticleText } from "./extract.ts";
import { decodeBody, parseFeed } from "./feed.parser.ts";
import { contentHash, type NormalizedArticle, normalizeEntry } from "./normalize.ts";

export type Article = typeof articles.$inferSelect;

export type SourceIngestResult =
  | { sourceId: string; status: "ok"; fetched: number; added: number; duplicates: number; skipped: string[] }
  | { sourceId: string; status: "not_modified" }
  | { sourceId: string; status: "failed"; error: string };

// Wire copies differ from each other in a few of 64 bits (short texts move more bits per edited
// word); unrelated texts differ in about 32. Candidates come from exact 16-bit band matches,
// certain up to 3 bits apart and likely beyond; very short texts are too alike to judge.
const NEAR_DUPLICATE_BITS = 6;
const NEAR_DUPLICATE_MIN_WORDS = 40;
const DEDUPE_WINDOW_MS = 72 * 3600_000;

/** Fetch one source, parse it, store its new articles; the outcome is recorded on the source. */
export async function ingestSource(
  deps: Pick<Deps, "db" | "clock" | "fetcher" | "logger" | "config">,
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
    const feed = parseFeed(decodeBody(res.body, res.contentType), res.url);
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
    if (deps.config.FETCH_FULL_TEXT) await completeTeasers(deps, normalized);
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

// Pages fetched for teasers per source run, a few at a time: polite to publishers, bounded in time.
const MAX_PAGES_PER_RUN = 20;
const PAGE_CONCURRENCY = 4;

/**
 * For entries whose feed carries only a teaser, fetches the article page and takes its main text
 * (readability), keeping the feed's URL. Paywalled and unreachable pages are marked, not dropped.
 * Articles already held are not fetched again.
 */
async function completeTeasers(deps: Pick<Deps, "db" | "fetcher" | "logger">, batch: NormalizedArticle[]) {
  const teasers = batch.filter((a) => a.status === "teaser");
  if (teasers.length === 0) return;
  const held = new Set(
    (
      await deps.db
        .select({ url: articles.url })
        .from(articles)
        .where(
          inArray(
            articles.url,
            teasers.map((a) => a.url),
          ),
        )
    ).map((r) => r.url),
  );
  const todo = teasers.filter((a) => !held.has(a.url)).slice(0, MAX_PAGES_PER_RUN);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PAGE_CONCURRENCY, todo.length) }, async () => {
      while (next < todo.length) {
        const a = todo[next++]!;
        const page = await fetchArticleText(deps.fetcher, a.url);
        if (page.status === "ok" && page.wordCount > a.wordCount) {
          a.content = page.text;
          a.wordCount = page.wordCount;
          a.author ??= page.byline;
          a.language ??= page.language;
          a.contentHash = contentHash(`${a.title}\n${page.text}`);
          a.simhash = simhash(`${a.title} ${page.text}`);
          a.status = "ok";
        } else if (page.status !== "ok") {
          a.status = page.status;
          deps.logger.debug({ url: a.url, reason: page.reason }, `article page ${page.status}`);
        }
      }
    }),
  );
}

/**
 * Stores articles once: an exact duplicate (same canonical URL or same text) or a near-duplicate
 * (SimHash within a few bits, i.e. a wire copy) becomes an appearance of the article already held.
 * A batch costs a fixed number of queries whatever the archive's size; one transaction, so a
 * failure leaves nothing half-written.
 */
export async function storeArticles(
  deps: Pick<Deps, "db" | "clock">,
  sourceId: string | null,
  batch: NormalizedArticle[],
): Promise<{ added: number; duplicates: number; ids: string[] }> {
  if (batch.length === 0) return { added: 0, duplicates: 0, ids: [] };
  const since = new Date(deps.clock.now().getTime() - DEDUPE_WINDOW_MS);
  const bands = batch.map((a) => simhashBands(a.simhash));
  return deps.db.transaction(async (tx) => {
    const byUrl = await tx
      .select({ id: articles.id, url: articles.url })
      .from(articles)
      .where(
        inArray(
          articles.url,
          batch.map((a) => a.url),
        ),
      );
    const byHash = await tx
      .select({ id: articles.id, contentHash: articles.contentHash })
      .from(articles)
      .where(
        inArray(
          articles.contentHash,
          batch.map((a) => a.contentHash),
        ),
      );
    const bandColumns = [articles.simBand0, articles.simBand1, articles.simBand2, articles.simBand3] as const;
    const nearby = await tx
      .select({ id: articles.id, simhash: articles.simhash })
      .from(articles)
      .where(
        and(
          gte(articles.publishedAt, since),
          or(...bandColumns.map((col, i) => inArray(col, [...new Set(bands.map((b) => b[i]!))]))),
        ),
      );
    const urlIndex = new Map(byUrl.map((k) => [k.url, k.id]));
    const hashIndex = new Map(byHash.map((k) => [k.contentHash, k.id]));
    const near = nearby.filter((n): n is { id: string; simhash: bigint } => n.simhash !== null);

    // Decide each article's fate in memory: new, or an appearance of an article held (or earlier in the batch).
    const fresh: NormalizedArticle[] = [];
    const appearances: { ref: NormalizedArticle | string; a: NormalizedArticle }[] = [];
    const freshByHash = new Map<string, NormalizedArticle>();
    const freshUrls = new Set<string>();
    let duplicates = 0;
    for (const a of batch) {
      if (urlIndex.has(a.url) || freshUrls.has(a.url)) {
        duplicates++;
        continue;
      }
      const twin =
        hashIndex.get(a.contentHash) ??
        freshByHash.get(a.contentHash) ??
        (a.wordCount >= NEAR_DUPLICATE_MIN_WORDS
          ? (near.find((n) => hammingDistance(n.simhash, a.simhash) <= NEAR_DUPLICATE_BITS)?.id ??
            fresh.find(
              (f) =>
                f.wordCount >= NEAR_DUPLICATE_MIN_WORDS &&
                hammingDistance(f.simhash, a.simhash) <= NEAR_DUPLICATE_BITS,
            ))
          : undefined);
      if (twin) {
        appearances.push({ ref: twin, a });
        duplicates++;
        continue;
      }
      fresh.push(a);
      freshUrls.add(a.url);
      freshByHash.set(a.contentHash, a);
    }

    const inserted = fresh.length
      ? await tx
          .insert(articles)
          .values(
            fresh.map((a) => {
              const [simBand0, simBand1, simBand2, simBand3] = simhashBands(a.simhash);
              return { ...a, sourceId, simBand0, simBand1, simBand2, simBand3 };
            }),
          )
          .onConflictDoNothing()
          .returning({ id: articles.id, url: articles.url })
      : [];
    const idOfUrl = new Map(inserted.map((r) => [r.url, r.id]));
    const rows = [
      ...fresh.filter((a) => idOfUrl.has(a.url)).map((a) => ({ articleId: idOfUrl.get(a.url)!, a })),
      ...appearances
        .map(({ ref, a }) => ({ articleId: typeof ref === "string" ? ref : idOfUrl.get(ref.url), a }))
        .filter((r): r is { articleId: string; a: NormalizedArticle } => r.articleId !== undefined),
    ];
    if (rows.length) {
      await tx
        .insert(articleAppearances)
        .values(rows.map(({ articleId, a }) => ({ articleId, sourceId, url: a.url, outlet: a.outlet })))
        .onConflictDoNothing();
    }
    return {
      added: inserted.length,
      duplicates: duplicates + (fresh.length - inserted.length),
      ids: inserted.map((r) => r.id),
    };
  });
}

/** Articles not yet grouped into a story, oldest first (ties by URL: the outcome must not depend on fetch order). */
export function unassignedArticles(deps: Pick<Deps, "db">, limit = 5000): Promise<Article[]> {
  return deps.db
    .select()
    .from(articles)
    .where(isNull(articles.storyId))
    .orderBy(articles.publishedAt, articles.url)
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
