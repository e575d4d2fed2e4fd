import { and, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { articles, stories } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { notFound } from "../../lib/errors.ts";
import { addInto, type SparseVector, topTerms } from "../../lib/vectors.ts";
import { type Article, unassignedArticles } from "../articles/index.ts";
import { articleTerms, dot, Idf } from "./clustering.ts";

export type Story = typeof stories.$inferSelect;

/** Stories older than this stop collecting articles: cost stays flat as the archive grows. */
export const STORY_WINDOW_MS = 72 * 3600_000;
// Cosine (tf-idf) at or above which an article joins a story; tuned on the evaluation corpus.
export const JOIN_THRESHOLD = 0.16;
const STORY_TERMS = 300;
// Candidate stories must share one of the article's most distinctive terms.
const PROBE_TERMS = 12;

type LiveStory = {
  id: string | null;
  terms: SparseVector;
  firstSeen: Date;
  lastSeen: Date;
  title: string;
  articleIds: string[];
  domains: Set<string>;
  changed: boolean;
};

/**
 * Groups every unassigned article into a story, incrementally: each article joins the most
 * similar story of the sliding window, or starts a new one. Returns how many stories changed.
 */
export async function clusterArticles(
  deps: Pick<Deps, "db" | "clock">,
): Promise<{ assigned: number; created: number; updated: number; storyIds: string[] }> {
  const pending = await unassignedArticles(deps);
  if (pending.length === 0) return { assigned: 0, created: 0, updated: 0, storyIds: [] };
  const since = new Date(deps.clock.now().getTime() - STORY_WINDOW_MS);
  const windowRows = await deps.db.select().from(stories).where(gte(stories.lastSeenAt, since));
  const domainRows =
    windowRows.length === 0
      ? []
      : await deps.db
          .selectDistinct({ storyId: articles.storyId, domain: articles.domain })
          .from(articles)
          .where(
            inArray(
              articles.storyId,
              windowRows.map((s) => s.id),
            ),
          );

  const live: LiveStory[] = windowRows.map((s) => ({
    id: s.id,
    terms: s.terms,
    firstSeen: s.firstSeenAt,
    lastSeen: s.lastSeenAt,
    title: s.title,
    articleIds: [],
    domains: new Set(domainRows.filter((d) => d.storyId === s.id).map((d) => d.domain)),
    changed: false,
  }));
  const docTerms = new Map<string, SparseVector>(pending.map((a) => [a.id, articleTerms(a)]));
  const idf = new Idf();
  for (const s of live) idf.add(s.terms);
  for (const v of docTerms.values()) idf.add(v);

  // Inverted index: term -> stories holding it.
  const postings = new Map<string, Set<LiveStory>>();
  const weighted = new Map<LiveStory, SparseVector>();
  const index = (s: LiveStory) => {
    weighted.set(s, idf.weigh(s.terms));
    for (const t in s.terms) {
      const set = postings.get(t);
      if (set) set.add(s);
      else postings.set(t, new Set([s]));
    }
  };
  for (const s of live) index(s);

  for (const article of pending) {
    const raw = docTerms.get(article.id)!;
    const vec = idf.weigh(raw);
    const probes = Object.entries(vec)
      .sort((x, y) => y[1] - x[1])
      .slice(0, PROBE_TERMS)
      .map(([t]) => t);
    const candidates = new Set<LiveStory>();
    for (const t of probes) for (const s of postings.get(t) ?? []) candidates.add(s);
    let best: LiveStory | null = null;
    let bestScore = 0;
    for (const s of candidates) {
      if (Math.abs(s.lastSeen.getTime() - article.publishedAt.getTime()) > STORY_WINDOW_MS) continue;
      const score = dot(vec, weighted.get(s)!);
      if (score > bestScore) {
        bestScore = score;
        best = s;
      }
    }
    if (best && bestScore >= JOIN_THRESHOLD) {
      best.terms = topTerms(addInto({ ...best.terms }, raw), STORY_TERMS);
      if (article.publishedAt > best.lastSeen) best.lastSeen = article.publishedAt;
      if (article.publishedAt < best.firstSeen) best.firstSeen = article.publishedAt;
      best.articleIds.push(article.id);
      best.domains.add(article.domain);
      best.changed = true;
      index(best);
    } else {
      const s: LiveStory = {
        id: null,
        terms: topTerms({ ...raw }, STORY_TERMS),
        firstSeen: article.publishedAt,
        lastSeen: article.publishedAt,
        title: article.title,
        articleIds: [article.id],
        domains: new Set([article.domain]),
        changed: true,
      };
      live.push(s);
      index(s);
    }
  }
  return persist(
    deps,
    live.filter((s) => s.changed),
    pending,
  );
}

async function persist(deps: Pick<Deps, "db">, changed: LiveStory[], pending: Article[]) {
  const byId = new Map(pending.map((a) => [a.id, a]));
  let created = 0;
  let updated = 0;
  const storyIds: string[] = [];
  await deps.db.transaction(async (tx) => {
    for (const s of changed) {
      const added = s.articleIds.length;
      if (s.id === null) {
        // The representative title: the earliest report's (usually the most straightforward).
        const first = s.articleIds
          .map((id) => byId.get(id)!)
          .sort((a, b) => +a.publishedAt - +b.publishedAt)[0]!;
        const [row] = await tx
          .insert(stories)
          .values({
            title: first.title,
            articleCount: added,
            outletCount: s.domains.size,
            terms: s.terms,
            firstSeenAt: s.firstSeen,
            lastSeenAt: s.lastSeen,
          })
          .returning({ id: stories.id });
        s.id = row!.id;
        created++;
      } else {
        await tx
          .update(stories)
          .set({
            articleCount: sql`${stories.articleCount} + ${added}`,
            outletCount: s.domains.size,
            terms: s.terms,
            firstSeenAt: s.firstSeen,
            lastSeenAt: s.lastSeen,
            revision: sql`${stories.revision} + 1`,
          })
          .where(eq(stories.id, s.id));
        updated++;
      }
      await tx.update(articles).set({ storyId: s.id }).where(inArray(articles.id, s.articleIds));
      storyIds.push(s.id);
    }
  });
  return { assigned: pending.length, created, updated, storyIds };
}

export async function getStory(deps: Pick<Deps, "db">, id: string): Promise<Story> {
  const [row] = await deps.db.select().from(stories).where(eq(stories.id, id));
  if (!row) throw notFound(`story ${id}`);
  return row;
}

/** Stories seen since `since`, newest first. */
export function recentStories(deps: Pick<Deps, "db">, since: Date, limit = 500): Promise<Story[]> {
  return deps.db
    .select()
    .from(stories)
    .where(and(gte(stories.lastSeenAt, since)))
    .orderBy(desc(stories.lastSeenAt))
    .limit(limit);
}
