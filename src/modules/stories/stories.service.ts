import { and, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { articles, stories } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { notFound } from "../../lib/errors.ts";
import { unassignedArticles } from "../articles/index.ts";
import { DEFAULT_CLUSTER_OPTIONS, type LiveStory, StoryClusterer } from "./clustering.ts";

export type Story = typeof stories.$inferSelect;

/** Stories older than this stop collecting articles: cost stays flat as the archive grows. */
export const STORY_WINDOW_MS = DEFAULT_CLUSTER_OPTIONS.windowMs;

/**
 * Groups every unassigned article into a story, incrementally: each article joins the most
 * similar story of the sliding window, or starts a new one.
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
  const window: LiveStory[] = windowRows.map((s) => ({
    id: s.id,
    title: s.title,
    terms: s.terms,
    firstSeen: s.firstSeenAt,
    lastSeen: s.lastSeenAt,
    domains: new Set(domainRows.filter((d) => d.storyId === s.id).map((d) => d.domain)),
    added: [],
  }));
  const clusterer = new StoryClusterer(window, pending);
  for (const article of pending) clusterer.assign(article);
  return persist(
    deps,
    clusterer.stories.filter((s) => s.added.length > 0),
    pending.length,
  );
}

async function persist(deps: Pick<Deps, "db">, changed: LiveStory[], assigned: number) {
  let created = 0;
  let updated = 0;
  const storyIds: string[] = [];
  await deps.db.transaction(async (tx) => {
    for (const s of changed) {
      const added = s.added.length;
      if (s.id === null) {
        const [row] = await tx
          .insert(stories)
          .values({
            // The representative title: the first report's.
            title: s.title,
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
      await tx
        .update(articles)
        .set({ storyId: s.id })
        .where(
          inArray(
            articles.id,
            s.added.map((a) => a.id),
          ),
        );
      storyIds.push(s.id);
    }
  });
  return { assigned, created, updated, storyIds };
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
