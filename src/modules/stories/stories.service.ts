import { randomUUID } from "node:crypto";
import { and, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { rowsOf, type Tx } from "../../db/client.ts";
import { articles, llmCalls, stories } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { describeError, notFound } from "../../lib/errors.ts";
import { unassignedArticles } from "../articles/index.ts";
import { DEFAULT_CLUSTER_OPTIONS, type LiveStory, StoryClusterer, unitLength } from "./clustering.ts";

export type Story = typeof stories.$inferSelect;

/** Stories older than this stop collecting articles: cost stays flat as the archive grows. */
export const STORY_WINDOW_MS = DEFAULT_CLUSTER_OPTIONS.windowMs;

/**
 * The clustering window kept in memory between runs of one process. Each run refreshes only the
 * stories whose revision changed (in this process or another), so a run costs what its new
 * articles cost. Without one, a run loads the window afresh.
 */
export class StoryWindowCache {
  clusterer = new StoryClusterer();
  byId = new Map<string, LiveStory>();
  reset(): void {
    this.clusterer = new StoryClusterer();
    this.byId.clear();
  }
}

// One clustering run at a time across every process sharing the database.
const CLUSTER_LOCK = 727_002;

/**
 * Groups every unassigned article into a story, incrementally: each article joins the most
 * similar story of the sliding window, or starts a new one. Runs in one transaction under an
 * advisory lock, so concurrent workers never split one event into two stories.
 */
export async function clusterArticles(
  deps: Pick<Deps, "db" | "clock" | "llm" | "logger">,
  cache: StoryWindowCache = new StoryWindowCache(),
): Promise<{ assigned: number; created: number; updated: number; storyIds: string[] }> {
  // Model calls happen before the clustering transaction, never while holding its lock.
  if (deps.llm) await embedPendingArticles(deps);
  try {
    return await deps.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${CLUSTER_LOCK})`);
      const pending = await unassignedArticles({ db: tx });
      if (pending.length === 0) return { assigned: 0, created: 0, updated: 0, storyIds: [] };
      await syncWindow(tx, cache, new Date(deps.clock.now().getTime() - STORY_WINDOW_MS));
      cache.clusterer.prepare(pending);
      for (const article of pending) cache.clusterer.assign(article);
      const changed = cache.clusterer.commit();
      const result = await persist(tx, changed, pending.length);
      for (const s of changed) {
        s.added = [];
        cache.byId.set(s.id!, s);
      }
      return result;
    });
  } catch (err) {
    // What is in memory may no longer match what was stored: start afresh next time.
    cache.reset();
    throw err;
  }
}

// Articles embedded per request; the text embedded is the title and the lead.
const EMBED_BATCH = 64;
const EMBED_LEAD_WORDS = 200;

/**
 * Embeds unassigned articles that have no embedding yet. A failing model is logged and skipped:
 * those articles are clustered lexically, and ingestion never waits on the model.
 */
export async function embedPendingArticles(deps: Pick<Deps, "db" | "llm" | "logger">): Promise<number> {
  const llm = deps.llm;
  if (!llm) return 0;
  const pending = (await unassignedArticles(deps)).filter((a) => !a.embedding);
  let embedded = 0;
  for (let i = 0; i < pending.length; i += EMBED_BATCH) {
    const batch = pending.slice(i, i + EMBED_BATCH);
    const texts = batch.map(
      (a) => `${a.title}\n\n${a.content.split(/\s+/).slice(0, EMBED_LEAD_WORDS).join(" ")}`,
    );
    let vectors: number[][];
    let tokens = 0;
    try {
      ({ vectors, tokens } = await llm.embed(texts));
    } catch (err) {
      deps.logger.warn({ err: describeError(err) }, "embedding failed; clustering lexically");
      await deps.db.insert(llmCalls).values({
        purpose: "embed",
        model: llm.embeddingModel,
        outcome: "error",
        error: describeError(err).slice(0, 500),
      });
      return embedded;
    }
    await deps.db
      .insert(llmCalls)
      .values({ purpose: "embed", model: llm.embeddingModel, tokensIn: tokens, outcome: "ok" });
    await deps.db.transaction(async (tx) => {
      for (const [j, a] of batch.entries()) {
        await tx
          .update(articles)
          .set({ embedding: unitLength(vectors[j]!) })
          .where(eq(articles.id, a.id));
      }
    });
    embedded += batch.length;
  }
  return embedded;
}

/** A uuid's first 32 bits as a signed integer, as `('x' || left(id::text, 8))::bit(32)::int` reads them. */
function idPrefix(id: string): number {
  return Number.parseInt(id.slice(0, 8), 16) | 0;
}

/** Brings the cached window in step with the database: aged-out stories leave, changed ones reload. */
async function syncWindow(tx: Tx, cache: StoryWindowCache, since: Date) {
  // The common case, nothing changed elsewhere, is told by a digest of the window (count,
  // revisions and id prefixes summed): listing every story of the window on every run cost more
  // as the window filled (measured: bench:ingest at 50k).
  if (cache.byId.size > 0) {
    const [db] = rowsOf<{ n: number; revisions: string; ids: string }>(
      await tx.execute(sql`
        select count(*)::int as n, coalesce(sum(revision), 0)::text as revisions,
          coalesce(sum(('x' || left(id::text, 8))::bit(32)::int), 0)::text as ids
        from ${stories} where last_seen_at >= ${since.toISOString()}::timestamptz`),
    );
    const from = since.getTime();
    let n = 0;
    let revisions = 0;
    let ids = 0;
    for (const s of cache.byId.values()) {
      if (s.lastSeen.getTime() < from) continue;
      n++;
      revisions += s.revision;
      ids += idPrefix(s.id!);
    }
    if (db && Number(db.n) === n && Number(db.revisions) === revisions && Number(db.ids) === ids) {
      for (const [id, s] of cache.byId) {
        if (s.lastSeen.getTime() >= from) continue;
        cache.clusterer.drop(s);
        cache.byId.delete(id);
      }
      return;
    }
  }
  const current = await tx
    .select({ id: stories.id, revision: stories.revision })
    .from(stories)
    .where(gte(stories.lastSeenAt, since));
  const want = new Map(current.map((r) => [r.id, r.revision]));
  for (const [id, s] of cache.byId) {
    if (want.get(id) !== s.revision) {
      cache.clusterer.drop(s);
      cache.byId.delete(id);
    }
  }
  const missing = current.filter((r) => !cache.byId.has(r.id)).map((r) => r.id);
  for (let i = 0; i < missing.length; i += 1000) {
    const ids = missing.slice(i, i + 1000);
    const rows = await tx.select().from(stories).where(inArray(stories.id, ids));
    const domainRows = await tx
      .selectDistinct({ storyId: articles.storyId, domain: articles.domain })
      .from(articles)
      .where(inArray(articles.storyId, ids));
    const domains = new Map<string, Set<string>>();
    for (const d of domainRows) domains.set(d.storyId!, (domains.get(d.storyId!) ?? new Set()).add(d.domain));
    for (const r of rows) {
      const live: LiveStory = {
        id: r.id,
        title: r.title,
        terms: r.terms,
        firstSeen: r.firstSeenAt,
        lastSeen: r.lastSeenAt,
        domains: domains.get(r.id) ?? new Set(),
        revision: r.revision,
        embedding: r.embedding ?? null,
        embeddedCount: r.embedding ? r.articleCount : 0,
        added: [],
      };
      cache.clusterer.put(live);
      cache.byId.set(r.id, live);
    }
  }
}

/**
 * Writes a run's changes in three statements, whatever their count: new stories in one insert,
 * changed ones in one UPDATE ... FROM, article assignments in another. Rows travel as one JSON
 * parameter per statement (jsonb_to_recordset): building statements with thousands of bound
 * values cost more CPU than clustering the run (measured: bench:ingest).
 */
async function persist(tx: Tx, changed: LiveStory[], assigned: number) {
  const fresh = changed.filter((s) => s.id === null);
  const known = changed.filter((s) => s.id !== null);
  if (fresh.length > 0) {
    // Ids made here: no reliance on the order RETURNING gives rows back.
    for (const s of fresh) {
      s.id = randomUUID();
      s.revision = 1;
    }
    await tx.execute(sql`
      insert into ${stories} (id, title, article_count, outlet_count, terms, first_seen_at, last_seen_at, embedding, revision)
      select id, title, article_count, outlet_count, terms, first_seen_at, last_seen_at, embedding, 1
      from jsonb_to_recordset(${JSON.stringify(
        fresh.map((s) => ({
          id: s.id,
          // The representative title: the first report's.
          title: s.title,
          article_count: s.added.length,
          outlet_count: s.domains.size,
          terms: s.terms,
          first_seen_at: s.firstSeen.toISOString(),
          last_seen_at: s.lastSeen.toISOString(),
          embedding: s.embedding,
        })),
      )}::jsonb) as x(id uuid, title text, article_count int, outlet_count int, terms jsonb,
        first_seen_at timestamptz, last_seen_at timestamptz, embedding jsonb)`);
  }
  if (known.length > 0) {
    const result = await tx.execute(sql`
      update ${stories} as s set
        article_count = s.article_count + v.added,
        outlet_count = v.outlets,
        terms = v.terms,
        first_seen_at = v.first_seen,
        last_seen_at = v.last_seen,
        embedding = coalesce(v.embedding, s.embedding),
        revision = s.revision + 1
      from jsonb_to_recordset(${JSON.stringify(
        known.map((s) => ({
          id: s.id,
          added: s.added.length,
          outlets: s.domains.size,
          terms: s.terms,
          first_seen: s.firstSeen.toISOString(),
          last_seen: s.lastSeen.toISOString(),
          embedding: s.embedding,
        })),
      )}::jsonb) as v(id uuid, added int, outlets int, terms jsonb, first_seen timestamptz,
        last_seen timestamptz, embedding jsonb)
      where s.id = v.id
      returning s.id, s.revision`);
    const revisions = new Map(
      rowsOf<{ id: string; revision: number }>(result).map((r) => [r.id, Number(r.revision)]),
    );
    for (const s of known) s.revision = revisions.get(s.id!) ?? s.revision + 1;
  }
  const assignments = changed.flatMap((s) => s.added.map((a) => ({ id: a.id, story_id: s.id })));
  if (assignments.length > 0) {
    await tx.execute(sql`
      update ${articles} as a set story_id = v.story_id
      from jsonb_to_recordset(${JSON.stringify(assignments)}::jsonb) as v(id uuid, story_id uuid)
      where a.id = v.id`);
  }
  return { assigned, created: fresh.length, updated: known.length, storyIds: changed.map((s) => s.id!) };
}

export async function getStory(deps: Pick<Deps, "db">, id: string): Promise<Story> {
  const [row] = await deps.db.select().from(stories).where(eq(stories.id, id));
  if (!row) throw notFound(`story ${id}`);
  return row;
}

/** Stories seen since `since`, newest first. */
/** The embeddings of those of these stories that have one. */
export async function storyEmbeddings(deps: Pick<Deps, "db">, ids: string[]): Promise<Map<string, number[]>> {
  if (ids.length === 0) return new Map();
  const rows = await deps.db
    .select({ id: stories.id, embedding: stories.embedding })
    .from(stories)
    .where(and(inArray(stories.id, ids), sql`${stories.embedding} is not null`));
  return new Map(rows.map((r) => [r.id, r.embedding!]));
}

export function recentStories(deps: Pick<Deps, "db">, since: Date, limit = 500): Promise<Story[]> {
  return deps.db
    .select()
    .from(stories)
    .where(and(gte(stories.lastSeenAt, since)))
    .orderBy(desc(stories.lastSeenAt))
    .limit(limit);
}
