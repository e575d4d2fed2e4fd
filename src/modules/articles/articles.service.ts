import { eq, inArray, isNull, sql } from "drizzle-orm";
import { type DbOrTx, rowsOf } from "../../db/client.ts";
import { articleAppearances, articles } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { describeError } from "../../lib/errors.ts";
import { hammingHalves, simhash, simhashBands, simhashHalves } from "../../lib/simhash.ts";
import { sliceWhole } from "../../lib/text.ts";
import { recordFetchFailure, recordFetchSuccess, type Source } from "../sources/index.ts";
import { fetchArticleText } from "./extract.ts";
import { decodeBody, parseFeed } from "./feed.parser.ts";
import {
  authorText,
  canonicalUrl,
  contentHash,
  domainOf,
  MAX_CONTENT_CHARS,
  type NormalizedArticle,
  normalizeEntry,
  outletText,
} from "./normalize.ts";

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
// Held articles looked at per article: bounds the cost of degenerate hashes shared by many.
const NEAR_CANDIDATES = 100;

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
      outlet: source.outlet ?? outletText(feed.title) ?? source.name,
      language: source.language ?? feed.language,
      now,
    };
    const normalized: NormalizedArticle[] = [];
    const skipped: string[] = [];
    for (const entry of newestEntries(feed.entries, skipped)) {
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

// Entries read per fetch: a news feed carries its latest dozens; one of 5,000 items took 41 s to
// ingest and left the process at 830 MB. The newest are kept.
const MAX_ENTRIES_PER_FETCH = 500;

function newestEntries<E extends { publishedAt: Date | null }>(entries: E[], skipped: string[]): E[] {
  if (entries.length <= MAX_ENTRIES_PER_FETCH) return entries;
  skipped.push(`the feed holds ${entries.length} entries; the newest ${MAX_ENTRIES_PER_FETCH} are read`);
  // Undated entries keep their place after the dated ones (feeds list newest first).
  const at = (e: E) => e.publishedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  return [...entries].sort((a, b) => at(b) - at(a) || 0).slice(0, MAX_ENTRIES_PER_FETCH);
}

// Pages fetched for teasers per source run, a few at a time: polite to publishers, bounded in time.
const MAX_PAGES_PER_RUN = 20;
const PAGE_CONCURRENCY = 4;

/**
 * For entries whose feed carries only a teaser, fetches the article page and takes its main text
 * (readability). The page's rel=canonical may name the URL the article is known by (the feed's
 * link is then kept as where it was seen). Paywalled and unreachable pages are marked, not dropped.
 * Articles already held are not fetched again.
 */
async function completeTeasers(deps: Pick<Deps, "db" | "fetcher" | "logger">, batch: NormalizedArticle[]) {
  const teasers = batch.filter((a) => a.status === "teaser");
  if (teasers.length === 0) return;
  const held = new Set(
    rowsOf<{ key: string }>(
      await deps.db.execute(knownUrls(JSON.stringify([...new Set(teasers.map((a) => a.url))]))),
    ).map((r) => r.key),
  );
  const todo = teasers.filter((a) => !held.has(a.url)).slice(0, MAX_PAGES_PER_RUN);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PAGE_CONCURRENCY, todo.length) }, async () => {
      while (next < todo.length) {
        const a = todo[next++]!;
        const page = await fetchArticleText(deps.fetcher, a.url);
        honourCanonical(a, page.status === "unreachable" ? null : page.canonicalUrl);
        if (page.status === "ok" && page.wordCount > a.wordCount) {
          a.content = sliceWhole(page.text, MAX_CONTENT_CHARS);
          a.wordCount = page.wordCount;
          a.author ??= page.byline ? authorText(page.byline) : null;
          a.language ??= page.language;
          a.contentHash = contentHash(`${a.title}\n${a.content}`);
          a.simhash = simhash(`${a.title} ${a.content}`);
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
 * The held article each of these URLs (a JSON array) names, one index probe per URL: an article's
 * own URL, or a link seen before (where a page named another canonical URL, or a wire copy's).
 * Rows (key: the URL, id: the article).
 */
function knownUrls(urlsJson: string) {
  return sql`
    select u.v as key, a.id
    from jsonb_array_elements_text(${urlsJson}::jsonb) as u(v)
    cross join lateral (
      select id from ${articles} where url = u.v
      union all
      (select article_id from ${articleAppearances} where url = u.v limit 1)
      limit 1
    ) a`;
}

/**
 * Whether a page's canonical URL is on the site its feed link is: the same host (www. aside) and
 * port, and the same scheme or an upgrade to https (a canonical on another port of the host, or
 * https -> http, is not the site's own address).
 */
function sameSite(canonical: string, link: string): boolean {
  const c = new URL(canonical);
  const l = new URL(link);
  const scheme = c.protocol === l.protocol || (l.protocol === "http:" && c.protocol === "https:");
  return (
    scheme && /^https?:$/.test(c.protocol) && domainOf(canonical) === domainOf(link) && c.port === l.port
  );
}

/**
 * A page's rel=canonical on the same site becomes the URL the article is known by (tracking and
 * section variants of one link collapse into one article); the feed's link is kept as where it
 * was seen. A canonical on another site is not followed: a page cannot claim another outlet's
 * article.
 */
function honourCanonical(a: NormalizedArticle, declared: string | null) {
  if (!declared) return;
  let url: string;
  try {
    url = canonicalUrl(declared);
  } catch {
    return;
  }
  if (url === a.url || !sameSite(url, a.url)) return;
  // Many sites name their home page as every page's canonical: that is no article's identity.
  if (new URL(url).pathname.replace(/\/+$/, "") === "") return;
  a.link ??= a.url;
  a.url = url;
}

/**
 * Stores articles once: an exact duplicate (same canonical URL or same text) or a near-duplicate
 * (SimHash within a few bits, i.e. a wire copy) becomes an appearance of the article already held.
 * A batch costs two statements whatever its size or the archive's: one lookup, one write (articles
 * and appearances together, so a failure leaves nothing half-written). Rows travel as one JSON
 * parameter each: building statements with thousands of bound values cost more CPU than the rest
 * of storing (measured: bench:ingest).
 * Lookup and write run as one transaction under an advisory lock: sources are fetched several at
 * a time (and by several workers), and two feeds carrying the same wire copy, looked up at once,
 * both found nothing and both stored it.
 */
export async function storeArticles(
  deps: Pick<Deps, "db" | "clock">,
  sourceId: string | null,
  batch: NormalizedArticle[],
): Promise<{ added: number; duplicates: number; ids: string[] }> {
  if (batch.length === 0) return { added: 0, duplicates: 0, ids: [] };
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${STORE_LOCK})`);
    return storeLocked({ db: tx, clock: deps.clock }, sourceId, batch);
  });
}

// One batch of articles stored at a time across every process sharing the database.
const STORE_LOCK = 727_003;

async function storeLocked(
  deps: { db: DbOrTx; clock: Deps["clock"] },
  sourceId: string | null,
  batch: NormalizedArticle[],
): Promise<{ added: number; duplicates: number; ids: string[] }> {
  const since = new Date(deps.clock.now().getTime() - DEDUPE_WINDOW_MS);
  const bands = batch.map((a) => simhashBands(a.simhash));
  const halves = new Map(batch.map((a) => [a, simhashHalves(a.simhash)]));
  const distinct = (values: string[]) => JSON.stringify([...new Set(values)]);
  // Every lookup is an index probe per value (a lateral join), whatever the planner knows of the
  // table: "content_hash in (...)" over the batch became a hash join over a scan of the whole
  // archive when statistics were missing (autovacuum off: 9 -> 29 ms a batch from 0 to 50k
  // articles), and a single "band in (...)" scanned the whole 72 h window. Each article's four
  // bands travel as one array per band position.
  const intArray = (values: number[]) => `{${values.join(",")}}`;
  const held = rowsOf<{
    kind: "url" | "hash" | "near";
    id: string;
    key: string | null;
    lo: number;
    hi: number;
  }>(
    await deps.db.execute(sql`
      select 'url' as kind, id, key, 0::float8 as lo, 0::float8 as hi
        from (${knownUrls(distinct(batch.map((a) => a.url)))}) known
      union all
      select 'hash', a.id, h.v, 0, 0
        from jsonb_array_elements_text(${distinct(batch.map((a) => a.contentHash))}::jsonb) as h(v)
        cross join lateral (select id from ${articles} where content_hash = h.v limit 1) a
      union all
      select 'near', a.id, a.sim_band0 || ',' || a.sim_band1 || ',' || a.sim_band2 || ',' || a.sim_band3,
          (a.simhash & 4294967295)::float8, ((a.simhash >> 32) & 4294967295)::float8
        from unnest(${intArray(bands.map((b) => b[0]))}::int[], ${intArray(bands.map((b) => b[1]))}::int[],
          ${intArray(bands.map((b) => b[2]))}::int[], ${intArray(bands.map((b) => b[3]))}::int[]) as b(v0, v1, v2, v3)
        cross join lateral (
          select id, sim_band0, sim_band1, sim_band2, sim_band3, simhash, published_at from ${articles}
          where sim_band0 = b.v0 or sim_band1 = b.v1 or sim_band2 = b.v2 or sim_band3 = b.v3
          limit ${NEAR_CANDIDATES}
        ) a
        where a.published_at >= ${since.toISOString()}::timestamptz and a.simhash is not null`),
  );
  const urlIndex = new Map<string, string>();
  const hashIndex = new Map<string, string>();
  // Near-duplicate candidates by band: an article is compared only with those sharing one of its bands.
  const nearByBand = new Map<string, { id: string; h: [number, number] }[]>();
  for (const r of held) {
    if (r.kind === "url") urlIndex.set(r.key!, r.id);
    else if (r.kind === "hash") hashIndex.set(r.key!, r.id);
    else {
      const n = { id: r.id, h: [Number(r.lo), Number(r.hi)] as [number, number] };
      for (const [i, b] of r.key!.split(",").entries()) {
        const k = `${i}:${b}`;
        const list = nearByBand.get(k);
        if (list) list.push(n);
        else nearByBand.set(k, [n]);
      }
    }
  }
  const nearTwin = (a: NormalizedArticle, i: number): string | undefined => {
    const h = halves.get(a)!;
    for (const [band, b] of bands[i]!.entries()) {
      for (const n of nearByBand.get(`${band}:${b}`) ?? []) {
        if (hammingHalves(n.h, h) <= NEAR_DUPLICATE_BITS) return n.id;
      }
    }
    return undefined;
  };

  // Decide each article's fate in memory: new, or an appearance of an article held (or earlier in the batch).
  const fresh: NormalizedArticle[] = [];
  const appearances: { ref: NormalizedArticle | string; a: NormalizedArticle }[] = [];
  const freshByHash = new Map<string, NormalizedArticle>();
  const freshByUrl = new Map<string, NormalizedArticle>();
  let duplicates = 0;
  for (const [i, a] of batch.entries()) {
    const known = urlIndex.get(a.url) ?? freshByUrl.get(a.url);
    if (known) {
      // Known by its canonical URL under another link: that link is one more place it was seen.
      if (a.link) appearances.push({ ref: known, a });
      duplicates++;
      continue;
    }
    const twin =
      hashIndex.get(a.contentHash) ??
      freshByHash.get(a.contentHash) ??
      (a.wordCount >= NEAR_DUPLICATE_MIN_WORDS
        ? (nearTwin(a, i) ??
          fresh.find(
            (f) =>
              f.wordCount >= NEAR_DUPLICATE_MIN_WORDS &&
              hammingHalves(halves.get(f)!, halves.get(a)!) <= NEAR_DUPLICATE_BITS,
          ))
        : undefined);
    if (twin) {
      appearances.push({ ref: twin, a });
      duplicates++;
      continue;
    }
    fresh.push(a);
    freshByUrl.set(a.url, a);
    freshByHash.set(a.contentHash, a);
  }
  if (fresh.length === 0 && appearances.length === 0) return { added: 0, duplicates, ids: [] };

  const articleRows = fresh.map((a) => {
    const [b0, b1, b2, b3] = simhashBands(a.simhash);
    return {
      source_id: sourceId,
      url: a.url,
      guid: a.guid,
      title: a.title,
      outlet: a.outlet,
      domain: a.domain,
      author: a.author,
      published_at: a.publishedAt.toISOString(),
      language: a.language,
      content: a.content,
      word_count: a.wordCount,
      content_hash: a.contentHash,
      simhash: a.simhash.toString(),
      sim_band0: b0,
      sim_band1: b1,
      sim_band2: b2,
      sim_band3: b3,
      status: a.status,
    };
  });
  // Each appearance names its article by id (held) or by the URL of a fresh one (id known once inserted).
  const appearanceRows = [
    ...fresh.map((a) => ({ article_id: null, article_url: a.url, url: a.link ?? a.url, outlet: a.outlet })),
    ...appearances.map(({ ref, a }) =>
      typeof ref === "string"
        ? { article_id: ref, article_url: null, url: a.link ?? a.url, outlet: a.outlet }
        : { article_id: null, article_url: ref.url, url: a.link ?? a.url, outlet: a.outlet },
    ),
  ];
  const inserted = rowsOf<{ id: string; url: string }>(
    await deps.db.execute(sql`
      with inserted as (
        insert into ${articles} (source_id, url, guid, title, outlet, domain, author, published_at, language,
          content, word_count, content_hash, simhash, sim_band0, sim_band1, sim_band2, sim_band3, status)
        select source_id, url, guid, title, outlet, domain, author, published_at, language,
          content, word_count, content_hash, simhash, sim_band0, sim_band1, sim_band2, sim_band3, status
        from jsonb_to_recordset(${JSON.stringify(articleRows)}::jsonb) as x(source_id uuid, url text, guid text,
          title text, outlet text, domain text, author text, published_at timestamptz, language text,
          content text, word_count int, content_hash text, simhash bigint, sim_band0 int, sim_band1 int,
          sim_band2 int, sim_band3 int, status text)
        on conflict do nothing
        returning id, url
      ), appeared as (
        insert into ${articleAppearances} (article_id, source_id, url, outlet)
        select coalesce(x.article_id, i.id), ${sourceId}::uuid, x.url, x.outlet
        from jsonb_to_recordset(${JSON.stringify(appearanceRows)}::jsonb)
          as x(article_id uuid, article_url text, url text, outlet text)
          left join inserted i on i.url = x.article_url
        where coalesce(x.article_id, i.id) is not null
        on conflict do nothing
      )
      select id, url from inserted`),
  );
  return {
    added: inserted.length,
    duplicates: duplicates + (fresh.length - inserted.length),
    ids: inserted.map((r) => r.id),
  };
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

/**
 * Every place the articles of these stories were seen, each URL once, in the order they were
 * first seen: an article's own URL and those of outlets that re-ran the same copy.
 */
export async function appearancesOfStories(
  deps: Pick<Deps, "db">,
  storyIds: string[],
): Promise<{ storyId: string; url: string; outlet: string }[]> {
  if (storyIds.length === 0) return [];
  const rows = rowsOf<{ story_id: string; url: string; outlet: string; at: string | Date }>(
    await deps.db.execute(sql`
      select distinct on (a.story_id, seen.url) a.story_id, seen.url, seen.outlet, seen.at
      from ${articles} a
      cross join lateral (
        select a.url, a.outlet, a.published_at as at
        union all
        select ap.url, ap.outlet, ap.seen_at from ${articleAppearances} ap where ap.article_id = a.id
      ) seen
      where a.story_id in (select jsonb_array_elements_text(${JSON.stringify(storyIds)}::jsonb)::uuid)
      order by a.story_id, seen.url, seen.at`),
  );
  return rows
    .map((r) => ({ storyId: r.story_id, url: r.url, outlet: r.outlet, at: new Date(r.at).getTime() }))
    .sort((x, y) => x.at - y.at || x.url.localeCompare(y.url))
    .map(({ at: _, ...r }) => r);
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
