import { and, desc, eq, lt, sql } from "drizzle-orm";
import { anyOf, arrayLiteral } from "../../db/any-of.ts";
import { rowsOf } from "../../db/client.ts";
import { briefingItems, briefings, feedback, llmCalls, subscribers } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { describeError, notFound } from "../../lib/errors.ts";
import { localDate } from "../../lib/time.ts";
import { activeSubscribers, forgetSubscriberAuth, type Subscriber } from "../profiles/index.ts";
import {
  buildProfileVector,
  domainMuted,
  matchedConcepts,
  mutedSourceKeys,
  prepareCandidates,
  type Ranked,
  RankingRun,
  SegmentInsights,
  type StoryText,
} from "../ranking/index.ts";
import { storyEmbeddings } from "../stories/index.ts";
import {
  latestSummaries,
  type StorySummary,
  type StoryView,
  type SummarizedStory,
  summarizedStoriesSince,
  toStoryView,
} from "../summaries/index.ts";

export type Briefing = typeof briefings.$inferSelect;

/**
 * How far back a morning briefing's candidates go: the last day and a half; when that holds fewer
 * than MIN_CANDIDATES summarized stories (quiet feeds, a small deployment), the week; when even
 * that does not (a new deployment fed an archive, a backfill of older news), the newest stories
 * whatever their age. Stories shown within REPEAT_LOOKBACK_DAYS stay out; freshness ranks newer first.
 */
const CANDIDATE_WINDOWS_MS = [36 * 3600_000, 7 * 86400_000, Number.POSITIVE_INFINITY];
const MIN_CANDIDATES = 24;
const MAX_CANDIDATES = 1000;

const REPEAT_LOOKBACK_DAYS = 7;

export type GenerateResult = { generated: number; skipped: number; briefingIds: string[] };

/**
 * Builds the briefing of each given (or each active) subscriber for their local date (or `date`),
 * from the summarized stories of the last day and a half (further back when those are few: see
 * CANDIDATE_WINDOWS_MS). Stories are prepared once for everyone;
 * a briefing that already exists is left as it is.
 */
export async function generateBriefings(
  deps: Pick<Deps, "db" | "clock" | "logger" | "llm" | "summaryCache">,
  opts: {
    date?: string;
    subscriberIds?: string[];
    runs?: RankingRunCache;
    /**
     * With `date`: leave out (as skipped) readers where that date has not begun. For an
     * operator's build: such a briefing would head the reader's list as tomorrow's, built from
     * today's news. The morning's jobs pass each reader's own local date and need no check.
     */
    onlyWhereBegun?: boolean;
  } = {},
): Promise<GenerateResult> {
  const now = deps.clock.now();
  const subscribers = await activeSubscribers(deps, opts.subscriberIds);
  const result: GenerateResult = { generated: 0, skipped: 0, briefingIds: [] };
  if (subscribers.length === 0) return result;

  // Newest first: each window is a prefix of the whole list.
  const newest = await summarizedStoriesSince(deps, new Date(0), MAX_CANDIDATES);
  const within = (ms: number) => newest.filter((s) => now.getTime() - s.lastSeenAt.getTime() <= ms);
  const usable = CANDIDATE_WINDOWS_MS.map(within).find((w) => w.length >= MIN_CANDIDATES) ?? newest;
  const byId = await deps.summaryCache.byIds(
    deps.db,
    usable.map((s) => s.summaryId),
  );
  const summaries = new Map(usable.map((s) => [s.storyId, byId.get(s.summaryId)!]));
  // Shared by every subscriber of this call, and by later calls of this process while the
  // candidates stay the same: concept matches and segment expansions are computed once.
  const run = await (opts.runs ?? new RankingRunCache()).get(deps, usable, summaries);
  const profileEmbeddings = deps.llm ? await embedProfiles(deps, subscribers) : new Map<string, number[]>();
  // "Why it matters" per (story, role × industry), shared by the run's subscribers.
  const insights = new SegmentInsights(deps);

  const dateOf = new Map(subscribers.map((s) => [s.id, opts.date ?? localDate(now, s.timezone)]));
  const { date } = opts;
  const begun =
    date && opts.onlyWhereBegun ? subscribers.filter((s) => localDate(now, s.timezone) >= date) : subscribers;
  const existing = await existingBriefings(deps, begun, dateOf);
  const todo = begun.filter((s) => !existing.has(s.id));
  result.skipped += subscribers.length - todo.length;
  if (todo.length === 0) return result;
  if (run.candidates.length === 0) {
    result.skipped += todo.length;
    return result;
  }
  const shown = await shownRecently(deps, todo, dateOf);
  await insights.preload(
    usable.map((s) => s.storyId),
    todo,
  );

  // Ranked in memory, then written in multi-row inserts: a batch of subscribers costs a handful
  // of statements, not several per subscriber.
  const drafts: Draft[] = [];
  for (const subscriber of todo) {
    const { picked, alsoToday } = run.rank(run.profile(subscriber), {
      now,
      limit: subscriber.briefingLength,
      mutedSources: subscriber.mutedSources,
      alreadyShown: shown.get(subscriber.id),
      profileEmbedding: profileEmbeddings.get(subscriber.id) ?? null,
    });
    // Nothing new for this reader (every story of the day muted, or in an earlier briefing): an
    // empty briefing still, so the app and the email say "nothing new" instead of "not built yet"
    // all day, and the delivery is not retried as if the news were late. A later build with
    // something to show replaces it (existingBriefings counts only briefings with items).
    drafts.push({ subscriber, date: dateOf.get(subscriber.id)!, picked, alsoToday, whys: [] });
  }
  // "Why it matters": each (story, segment) of the batch asked once, a few at a time, then read
  // from the run's memo for every subscriber of that segment.
  const onePerPair = new Map<string, { r: Ranked; subscriber: Subscriber }>();
  for (const d of drafts) {
    for (const r of d.picked)
      onePerPair.set(`${r.storyId}\n${insights.segmentFor(d.subscriber)}`, { r, subscriber: d.subscriber });
  }
  const pairs = [...onePerPair.values()];
  // The first alone: a model that is down costs one failed call, then the run goes offline.
  let nextPair = Math.min(1, pairs.length);
  if (pairs[0])
    await insights.whyItMatters(pairs[0].r, pairs[0].subscriber, summaries.get(pairs[0].r.storyId)!);
  await Promise.all(
    Array.from({ length: Math.min(INSIGHT_CONCURRENCY, pairs.length) }, async () => {
      while (nextPair < pairs.length) {
        const { r, subscriber } = pairs[nextPair++]!;
        await insights.whyItMatters(r, subscriber, summaries.get(r.storyId)!);
      }
    }),
  );
  for (const d of drafts) {
    for (const r of d.picked)
      d.whys.push(await insights.whyItMatters(r, d.subscriber, summaries.get(r.storyId)!));
  }
  for (let k = 0; k < drafts.length; k += WRITE_BATCH) {
    const ids = await writeBriefings(deps, drafts.slice(k, k + WRITE_BATCH), summaries);
    result.generated += ids.length;
    result.briefingIds.push(...ids);
    // Written by another worker in the meantime: theirs stands.
    result.skipped += Math.min(WRITE_BATCH, drafts.length - k) - ids.length;
  }
  return result;
}

/**
 * The ranking run of a process's last candidate set. A worker builds the morning in batches of
 * subscribers against the same stories: reusing the run keeps each concept's matches against
 * every story, computed once, for all of them (measured: most of a batch's CPU otherwise).
 */
export class RankingRunCache {
  private key = "";
  private run: RankingRun | null = null;

  async get(
    deps: Pick<Deps, "db">,
    usable: SummarizedStory[],
    summaries: Map<string, StorySummary>,
  ): Promise<RankingRun> {
    // What a candidate's scores depend on: its summary, revision, coverage and last sighting.
    const key = usable
      .map(
        (s) =>
          `${s.summaryId}:${s.revision}:${s.outletCount}:${s.lastSeenAt.getTime()}:${s.hasEmbedding ? 1 : 0}`,
      )
      .join(",");
    if (!this.run || key !== this.key) {
      const embeddings = await storyEmbeddings(
        deps,
        usable.filter((s) => s.hasEmbedding).map((s) => s.storyId),
      );
      const { candidates, idf } = prepareCandidates(
        usable.map((s) =>
          storyText(summaries.get(s.storyId)!, { ...s, embedding: embeddings.get(s.storyId) ?? null }),
        ),
      );
      this.run = new RankingRun(candidates, idf);
      this.key = key;
    }
    return this.run;
  }
}

// Model calls for "why it matters" in flight at once (below the database pool: each is recorded).
const INSIGHT_CONCURRENCY = 4;

// Briefings per insert: with up to 12 items each, the statements stay well under PostgreSQL's
// 65,535 parameters.
const WRITE_BATCH = 200;

type Draft = {
  subscriber: Subscriber;
  date: string;
  picked: Ranked[];
  alsoToday: Ranked[];
  whys: string[];
};

/** The batch's readers with their dates, as rows `want(subscriber_id, date)` to probe keys with. */
function readersOnTheirDates(subs: Subscriber[], dateOf: Map<string, string>) {
  const ids = subs.map((s) => s.id);
  return sql`unnest(${arrayLiteral(ids)}::uuid[], ${arrayLiteral(ids.map((id) => dateOf.get(id)!))}::date[])
    as want(subscriber_id, date)`;
}

/**
 * Subscribers (of these) who already have a briefing for their date. One probe of the
 * (subscriber, date) key per subscriber, written as a LATERAL the planner cannot turn into a scan:
 * as a plain filter, statistics taken before the morning said today's date had no briefings, so
 * PostgreSQL read every briefing built so far today for each batch (35 ms a batch by the end of
 * 100,000 readers, growing with the morning; 0.1 ms as probes).
 */
async function existingBriefings(
  deps: Pick<Deps, "db">,
  subs: Subscriber[],
  dateOf: Map<string, string>,
): Promise<Set<string>> {
  const rows = rowsOf<{ subscriber_id: string }>(
    await deps.db.execute(sql`
      select want.subscriber_id
      from ${readersOnTheirDates(subs, dateOf)}
      cross join lateral (
        select 1 from briefings b where b.subscriber_id = want.subscriber_id and b.date = want.date
          and exists (select 1 from briefing_items i where i.briefing_id = b.id)
        limit 1
      ) found`),
  );
  return new Set(rows.map((r) => r.subscriber_id));
}

/**
 * Briefings and their items in one transaction; returns the ids of those this call created.
 * Each table is written with one statement whose rows travel as a single JSON parameter
 * (jsonb_to_recordset): building a statement with thousands of bound values cost more CPU than
 * ranking the batch (measured).
 */
async function writeBriefings(
  deps: Pick<Deps, "db" | "clock">,
  drafts: Draft[],
  summaries: Map<string, StorySummary>,
): Promise<string[]> {
  const generatedAt = deps.clock.now().toISOString();
  const briefingRows = drafts.map((d) => ({
    subscriber_id: d.subscriber.id,
    date: d.date,
    generated_at: generatedAt,
    also_today: d.alsoToday.map((r) => ({
      storyId: r.storyId,
      headline: summaries.get(r.storyId)!.headline,
      score: round(r.score),
    })),
  }));
  // An empty briefing ("nothing new") stands only until there is something: news that came in
  // later, or a reader who un-muted, replaces it.
  const replacing = JSON.stringify(
    drafts.filter((d) => d.picked.length > 0).map((d) => ({ subscriber_id: d.subscriber.id, date: d.date })),
  );
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`
      delete from briefings b
      using jsonb_to_recordset(${replacing}::jsonb) as x(subscriber_id uuid, date date)
      where b.subscriber_id = x.subscriber_id and b.date = x.date
        and not exists (select 1 from briefing_items i where i.briefing_id = b.id)`);
    const created = rowsOf<{ id: string; subscriber_id: string }>(
      await tx.execute(sql`
        insert into briefings (subscriber_id, date, generated_at, also_today)
        select subscriber_id, date, generated_at, also_today
        from jsonb_to_recordset(${JSON.stringify(briefingRows)}::jsonb)
          as x(subscriber_id uuid, date date, generated_at timestamptz, also_today jsonb)
        on conflict do nothing
        returning id, subscriber_id`),
    );
    const idOf = new Map(created.map((b) => [b.subscriber_id, b.id]));
    const items = drafts
      .filter((d) => idOf.has(d.subscriber.id))
      .flatMap((d) =>
        d.picked.map((r, i) => ({
          briefing_id: idOf.get(d.subscriber.id)!,
          rank: i + 1,
          story_id: r.storyId,
          summary_id: summaries.get(r.storyId)!.id,
          score: round(r.score),
          reason: r.reason,
          why_it_matters: d.whys[i]!,
          features: roundAll(r.features),
        })),
      );
    if (items.length > 0) {
      await tx.execute(sql`
        insert into briefing_items (briefing_id, rank, story_id, summary_id, score, reason, why_it_matters, features)
        select briefing_id, rank, story_id, summary_id, score, reason, why_it_matters, features
        from jsonb_to_recordset(${JSON.stringify(items)}::jsonb)
          as x(briefing_id uuid, rank int, story_id uuid, summary_id uuid, score real, reason text, why_it_matters text, features jsonb)`);
    }
    return created.map((b) => b.id);
  });
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

function roundAll(features: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k in features) out[k] = round(features[k]!);
  return out;
}

/**
 * Per subscriber: story id -> story revision they already saw, over the week before their date.
 * Read key by key, each step a LATERAL the planner cannot turn into a scan: the week's briefings
 * per subscriber through the (subscriber, date) key, then each briefing's items through theirs,
 * a fixed number of index probes whatever the statistics, taken before the morning, say about
 * tables that grow through it (12 ms a batch of 500 on the next morning of 100,000 readers).
 */
async function shownRecently(
  deps: Pick<Deps, "db">,
  subs: Subscriber[],
  dateOf: Map<string, string>,
): Promise<Map<string, Map<string, number>>> {
  const rows = rowsOf<{ subscriber_id: string; story_id: string; revision: number }>(
    await deps.db.execute(sql`
      select want.subscriber_id, item.story_id, ss.story_revision as revision
      from ${readersOnTheirDates(subs, dateOf)}
      cross join lateral (
        select id from briefings
        where subscriber_id = want.subscriber_id
          and date >= want.date - ${REPEAT_LOOKBACK_DAYS}::int and date < want.date
        offset 0
      ) b
      cross join lateral (
        select story_id, summary_id from briefing_items where briefing_id = b.id offset 0
      ) item
      join story_summaries ss on ss.id = item.summary_id`),
  );
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    let shown = out.get(r.subscriber_id);
    if (!shown) {
      shown = new Map();
      out.set(r.subscriber_id, shown);
    }
    shown.set(r.story_id, Math.max(shown.get(r.story_id) ?? 0, Number(r.revision)));
  }
  return out;
}

/** A briefing as the app reads it (API.md "A briefing"). Another subscriber's is not found. */
export async function getBriefingView(
  deps: Pick<Deps, "db" | "summaryCache">,
  subscriberId: string,
  id: string,
) {
  const [b] = await deps.db
    .select()
    .from(briefings)
    .where(and(eq(briefings.id, id), eq(briefings.subscriberId, subscriberId)));
  if (!b) throw notFound("briefing");
  return (await briefingViewsOf(deps, [b]))[0]!;
}

export async function getBriefingForDate(
  deps: Pick<Deps, "db" | "summaryCache">,
  subscriberId: string,
  date: string,
) {
  const view = (await briefingViews(deps, [{ subscriberId, date }])).get(briefingKey(subscriberId, date));
  if (!view) throw notFound(`briefing for ${date}`);
  return view;
}

export const briefingKey = (subscriberId: string, date: string) => `${subscriberId}:${date}`;

/**
 * The briefings of many (subscriber, date) pairs in three queries, keyed by briefingKey; pairs
 * without a briefing are absent. Senders and renderers read a batch at once: two round trips
 * per email were most of rendering a morning.
 */
export async function briefingViews(
  deps: Pick<Deps, "db" | "summaryCache">,
  pairs: { subscriberId: string; date: string }[],
): Promise<Map<string, BriefingView>> {
  if (pairs.length === 0) return new Map();
  const wanted = new Set(pairs.map((p) => briefingKey(p.subscriberId, p.date)));
  const rows = await deps.db
    .select()
    .from(briefings)
    .where(
      and(
        anyOf(briefings.subscriberId, [...new Set(pairs.map((p) => p.subscriberId))], "uuid"),
        anyOf(briefings.date, [...new Set(pairs.map((p) => p.date))], "date"),
      ),
    );
  const found = rows.filter((b) => wanted.has(briefingKey(b.subscriberId, b.date)));
  const views = await briefingViewsOf(deps, found);
  return new Map(views.map((v) => [briefingKey(v.subscriberId, v.date), v]));
}

export async function listBriefings(
  deps: Pick<Deps, "db">,
  subscriberId: string,
  opts: { before?: string; limit: number },
): Promise<Briefing[]> {
  return deps.db
    .select()
    .from(briefings)
    .where(
      and(
        eq(briefings.subscriberId, subscriberId),
        opts.before ? lt(briefings.date, opts.before) : undefined,
      ),
    )
    .orderBy(desc(briefings.date))
    .limit(opts.limit);
}

/** A story as one subscriber reads it: "why it matters" is theirs, from the briefing that showed it. */
export async function getStoryForSubscriber(deps: Pick<Deps, "db">, subscriberId: string, storyId: string) {
  const summary = (await latestSummaries(deps, [storyId])).get(storyId);
  if (!summary) throw notFound("story");
  const [mine] = await deps.db
    .select({ why: briefingItems.whyItMatters })
    .from(briefingItems)
    .innerJoin(briefings, eq(briefingItems.briefingId, briefings.id))
    .where(and(eq(briefingItems.storyId, storyId), eq(briefings.subscriberId, subscriberId)))
    .orderBy(desc(briefings.date))
    .limit(1);
  return withoutMutedOutlets(
    toStoryView(summary, mine?.why ?? null),
    (await mutedOutlets(deps, [subscriberId])).get(subscriberId),
  );
}

/** Each subscriber's muted outlets, as keys domainMuted takes. */
async function mutedOutlets(
  deps: Pick<Deps, "db">,
  subscriberIds: string[],
): Promise<Map<string, Set<string>>> {
  if (subscriberIds.length === 0) return new Map();
  const rows = await deps.db
    .select({ id: subscribers.id, muted: subscribers.mutedSources })
    .from(subscribers)
    .where(anyOf(subscribers.id, [...new Set(subscriberIds)], "uuid"));
  return new Map(rows.map((r) => [r.id, mutedSourceKeys(r.muted)]));
}

/**
 * A story as a reader who muted some of its outlets reads it: without those sources, their
 * citations, and the sentences that then cite nothing. Ranking keeps a story only when one of its
 * outlets is not muted (a muted outlet's own stories are dropped), but its summary is shared and
 * cites every outlet; "hide this source" on a story meant its outlet went on being cited in every
 * story it covered with others. A summary whose key points all rest on muted outlets is shown
 * whole: an empty story would say less than a cited one.
 */
export function withoutMutedOutlets(story: StoryView, muted: Set<string> | undefined): StoryView {
  if (!muted || muted.size === 0) return story;
  const dropped = new Set(story.sources.filter((s) => domainMuted(s.domain, muted)).map((s) => s.n));
  if (dropped.size === 0 || dropped.size === story.sources.length) return story;
  const unmuted = (list: StoryView["keyPoints"]) =>
    list.flatMap((t) => {
      const citations = t.citations.filter((n) => !dropped.has(n));
      return citations.length > 0 ? [{ ...t, citations }] : [];
    });
  const keyPoints = unmuted(story.keyPoints);
  if (keyPoints.length === 0) return story;
  const sources = story.sources.filter((s) => !dropped.has(s.n));
  return {
    ...story,
    keyPoints,
    analysis: unmuted(story.analysis),
    sources,
    singleSource: new Set(sources.map((s) => s.domain)).size <= 1,
  };
}

async function briefingViewsOf(deps: Pick<Deps, "db" | "summaryCache">, list: Briefing[]) {
  if (list.length === 0) return [];
  const items = await deps.db
    .select({
      briefingId: briefingItems.briefingId,
      rank: briefingItems.rank,
      reason: briefingItems.reason,
      score: briefingItems.score,
      whyItMatters: briefingItems.whyItMatters,
      summaryId: briefingItems.summaryId,
    })
    .from(briefingItems)
    .where(
      anyOf(
        briefingItems.briefingId,
        list.map((b) => b.id),
        "uuid",
      ),
    )
    .orderBy(briefingItems.briefingId, briefingItems.rank);
  // Summaries are shared by every briefing of the morning: read from the process's cache.
  const summaries = await deps.summaryCache.byIds(
    deps.db,
    items.map((i) => i.summaryId),
  );
  const muted = await mutedOutlets(
    deps,
    list.map((b) => b.subscriberId),
  );
  const itemsOf = new Map<string, typeof items>();
  for (const item of items) {
    if (!summaries.has(item.summaryId)) continue;
    const mine = itemsOf.get(item.briefingId) ?? [];
    mine.push(item);
    itemsOf.set(item.briefingId, mine);
  }
  return list.map((b) => ({
    id: b.id,
    date: b.date,
    subscriberId: b.subscriberId,
    generatedAt: b.generatedAt.toISOString(),
    items: (itemsOf.get(b.id) ?? []).map((item) => ({
      rank: item.rank,
      reason: item.reason,
      score: item.score,
      story: withoutMutedOutlets(
        toStoryView(summaries.get(item.summaryId)!, item.whyItMatters),
        muted.get(b.subscriberId),
      ),
    })),
    alsoToday: b.alsoToday,
  }));
}
export type BriefingView = Awaited<ReturnType<typeof briefingViewsOf>>[number];

export type FeedbackSignal = "up" | "down" | "more" | "less" | "hide_source";

// How far one signal moves the weight of each concept the story matched (the top three).
const FEEDBACK_STEP: Record<Exclude<FeedbackSignal, "hide_source">, number> = {
  up: 0.5,
  more: 1,
  down: -0.5,
  less: -1,
};
const WEIGHT_LIMIT = 3;

/**
 * Records a reader's feedback on a story and turns it into tomorrow's ranking: the concepts of
 * their profile that the story matched weigh more (up, more) or less (down, less); hide_source
 * mutes the outlet the story leads with. The story must exist; any subscriber may rate any story.
 */
export async function recordFeedback(
  deps: Pick<Deps, "db" | "clock">,
  subscriber: Subscriber,
  storyId: string,
  signal: FeedbackSignal,
): Promise<void> {
  const summary = (await latestSummaries(deps, [storyId])).get(storyId);
  if (!summary) throw notFound("story");
  await deps.db.transaction(async (tx) => {
    // The stored profile, locked first: concurrent feedback accumulates instead of overwriting.
    // (Inserting the feedback row first took a key-share lock on the subscriber through its
    // foreign key, and two requests each holding one then deadlocked asking for this lock.)
    const [current] = await tx
      .select()
      .from(subscribers)
      .where(eq(subscribers.id, subscriber.id))
      .for("no key update");
    if (!current) throw notFound("subscriber");
    await tx.insert(feedback).values({ subscriberId: subscriber.id, storyId, signal });
    if (signal === "hide_source") {
      // The outlet the reader's view leads with (withoutMutedOutlets): the first one not muted
      // already, as the button names it; the summary's own first may be muted since.
      const muted = mutedSourceKeys(current.mutedSources);
      const lead = summary.sources.find((s) => !domainMuted(s.domain, muted))?.domain;
      if (lead) {
        await tx
          .update(subscribers)
          .set({ mutedSources: [...current.mutedSources, lead], updatedAt: deps.clock.now() })
          .where(eq(subscribers.id, subscriber.id));
      }
      return;
    }
    const profile = buildProfileVector({ ...current, preferenceWeights: {} });
    const labels = [...new Set(matchedConcepts(profile, storyText(summary)))].slice(0, 3);
    if (labels.length === 0) return;
    const weights = { ...current.preferenceWeights };
    for (const label of labels) {
      const next = (weights[label] ?? 0) + FEEDBACK_STEP[signal];
      weights[label] = Math.max(-WEIGHT_LIMIT, Math.min(WEIGHT_LIMIT, next));
    }
    await tx
      .update(subscribers)
      .set({ preferenceWeights: weights, updatedAt: deps.clock.now() })
      .where(eq(subscribers.id, subscriber.id));
  });
  // The profile changed: this process's memory of it (and the briefings read through it, keyed
  // by its version) is read afresh, from the app or from an email's button alike.
  forgetSubscriberAuth(deps, subscriber.id);
}

/** The text a profile is embedded from; when it changes, the profile is embedded again. */
export function profileText(s: Pick<Subscriber, "role" | "industry" | "interests" | "followed">): string {
  const parts = [`${s.role} in ${s.industry}.`];
  if (s.interests.length) parts.push(`Interests: ${s.interests.join(", ")}.`);
  if (s.followed.length) parts.push(`Following: ${s.followed.map((f) => f.name).join(", ")}.`);
  return parts.join(" ");
}

/**
 * Profile embeddings for the semantic half of relevance, made once per profile version and
 * stored. A failing model leaves the lexical ranking alone; briefings never wait on it.
 */
async function embedProfiles(
  deps: Pick<Deps, "db" | "llm" | "logger">,
  list: Subscriber[],
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const stale: Subscriber[] = [];
  for (const s of list) {
    if (s.profileEmbedding && s.profileEmbeddingText === profileText(s)) out.set(s.id, s.profileEmbedding);
    else stale.push(s);
  }
  const llm = deps.llm;
  if (!llm) return out;
  for (let i = 0; i < stale.length; i += 64) {
    const batch = stale.slice(i, i + 64);
    const texts = batch.map(profileText);
    try {
      const { vectors, tokens } = await llm.embed(texts);
      await deps.db
        .insert(llmCalls)
        .values({ purpose: "embed_profile", model: llm.embeddingModel, tokensIn: tokens, outcome: "ok" });
      for (const [k, s] of batch.entries()) {
        out.set(s.id, vectors[k]!);
        await deps.db
          .update(subscribers)
          .set({ profileEmbedding: vectors[k]!, profileEmbeddingText: texts[k]! })
          .where(eq(subscribers.id, s.id));
      }
    } catch (err) {
      deps.logger.warn({ err: describeError(err) }, "profile embedding failed; ranking lexically");
      return out;
    }
  }
  return out;
}

/** What ranking reads of a story: its summary's text, outlets, recency, revision and embedding. */
export function storyText(
  sum: StorySummary,
  story?: { outletCount: number; lastSeenAt: Date; revision: number; embedding: number[] | null },
): StoryText {
  return {
    storyId: sum.storyId,
    headline: sum.headline,
    texts: [...sum.keyPoints, ...sum.analysis].map((t) => t.text).concat(sum.sources.map((x) => x.title)),
    outletCount: story?.outletCount ?? new Set(sum.sources.map((x) => x.domain)).size,
    domains: sum.sources.map((x) => x.domain),
    lastSeenAt: story?.lastSeenAt ?? new Date(sum.createdAt),
    revision: story?.revision ?? sum.storyRevision,
    embedding: story?.embedding ?? null,
  };
}
