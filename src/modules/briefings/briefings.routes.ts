import { createRoute, z } from "@hono/zod-openapi";
import DataLoader from "dataloader";
import type { Deps } from "../../deps.ts";
import { notFound } from "../../lib/errors.ts";
import { adminAuth, createRouter, problemResponses, refuseDateAfterToday } from "../../lib/http.ts";
import { ConcurrencyLimit } from "../../lib/rate-limit.ts";
import { jsonWithEtag, sendTaggedJson } from "../../lib/tagged-json.ts";
import { localDate } from "../../lib/time.ts";
import { bearerSecurity, forgetSubscriberAuth, type SubscriberEnv } from "../profiles/index.ts";
import { answerQuestion } from "../summaries/index.ts";
import {
  answerSchema,
  briefingListSchema,
  briefingSchema,
  feedbackInputSchema,
  generateInputSchema,
  idParamSchema,
  listQuerySchema,
  questionInputSchema,
  storySchema,
} from "./briefings.schemas.ts";
import {
  type BriefingView,
  briefingKey,
  briefingViews,
  generateBriefings,
  getBriefingForDate,
  getBriefingView,
  getStoryForSubscriber,
  listBriefings,
  recordFeedback,
} from "./briefings.service.ts";
import { briefingReadCache } from "./read-cache.ts";

const json = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const notModified = { description: "Unchanged since the ETag given in If-None-Match" };

/**
 * localDate for "today", computed once per zone per minute: Intl's formatToParts was the largest
 * single cost of a cached read. Local dates change only on minute boundaries in every current zone.
 */
function todayByZone() {
  const memo = new Map<string, { date: string; until: number }>();
  return (now: Date, tz: string): string => {
    const t = now.getTime();
    const hit = memo.get(tz);
    if (hit && t < hit.until && t >= hit.until - 60_000) return hit.date;
    const date = localDate(now, tz);
    memo.set(tz, { date, until: Math.floor(t / 60_000) * 60_000 + 60_000 });
    return date;
  };
}

/** A reader's briefings read through one cache: the routes' and app.ts's hot path for today's. */
export type BriefingReads = ReturnType<typeof createBriefingReads>;

/**
 * Background reloads of today's briefings (see read-cache.ts), gathered for this long and read
 * together: briefingViews reads up to RELOAD_BATCH_MAX in three queries, where one by one each cost
 * three (and drizzle's query building). With 1,000 readers each briefing is reloaded every 2 to
 * 2.5 minutes.
 */
const RELOAD_GATHER_MS = 250;
const RELOAD_BATCH_MAX = 100;

export function createBriefingReads(deps: Deps) {
  const cache = briefingReadCache(deps.config.DATABASE_POOL_SIZE, () => deps.clock.now().getTime());
  const todayIn = todayByZone();
  const reloadSlots = new ConcurrencyLimit(2); // a reload storm leaves the pool to the requests
  const reloads = new DataLoader<{ subscriberId: string; date: string }, BriefingView | null>(
    (keys) =>
      reloadSlots.run(async () => {
        const views = await briefingViews(deps, [...keys]);
        return keys.map((k) => views.get(briefingKey(k.subscriberId, k.date)) ?? null);
      }),
    {
      cache: false,
      maxBatchSize: RELOAD_BATCH_MAX,
      batchScheduleFn: (run) => setTimeout(run, RELOAD_GATHER_MS),
    },
  );
  const reloadToday = (subscriberId: string, date: string) => async () =>
    (await reloads.load({ subscriberId, date })) ?? Promise.reject(notFound(`briefing for ${date}`));
  return {
    /** A briefing by key (see keyOf), loaded on a miss. */
    read: cache.read,
    /** Today's briefing in the reader's time zone, loaded on a miss (404 before it is built). */
    today(s: TodayReader) {
      const date = todayIn(deps.clock.now(), s.timezone);
      return cache.read(keyOf(s, date), () => getBriefingForDate(deps, s.id, date), reloadToday(s.id, date));
    },
    /** Today's briefing when it is in memory, without waiting (kept fresh in the background). */
    keptToday(s: TodayReader) {
      const now = deps.clock.now();
      const date = todayIn(now, s.timezone);
      return cache.kept(keyOf(s, date), now.getTime(), reloadToday(s.id, date));
    },
  };
}
type TodayReader = { id: string; timezone: string; updatedAt?: Date };
/**
 * A reader's briefing in the cache, by profile version: a briefing is shown through its reader's
 * profile (muted outlets), so a changed profile reads it afresh rather than from memory.
 */
const keyOf = (s: TodayReader, dateOrId: string) =>
  `${briefingKey(s.id, dateOrId)}@${s.updatedAt?.getTime() ?? 0}`;

export function createBriefingRoutes(deps: Deps, reads: BriefingReads = createBriefingReads(deps)) {
  const app = createRouter<SubscriberEnv>();
  const cachedBriefing = reads.read;

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/briefings",
      tags: ["subscriber"],
      summary: "The subscriber's briefings, newest first",
      security: bearerSecurity,
      request: { query: listQuerySchema },
      responses: { 200: json(briefingListSchema, "A page of briefings"), ...problemResponses(400, 401) },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      const rows = await listBriefings(deps, c.get("subscriber").id, { before: cursor, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const views = await Promise.all(page.map((b) => getBriefingView(deps, b.subscriberId, b.id)));
      return c.json(
        {
          items: views.map((v) => ({
            id: v.id,
            date: v.date,
            generatedAt: v.generatedAt,
            headlines: v.items.map((i) => i.story.headline),
          })),
          nextCursor: rows.length > limit ? page[page.length - 1]!.date : null,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/briefings/today",
      tags: ["subscriber"],
      summary: "Today's briefing in the subscriber's time zone (404 before it exists)",
      security: bearerSecurity,
      responses: {
        200: json(briefingSchema, "Today's briefing"),
        304: notModified,
        ...problemResponses(401, 404),
      },
    }),
    async (c) => {
      return sendTaggedJson(c, await reads.today(c.get("subscriber"))) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/briefings/{id}",
      tags: ["subscriber"],
      summary: "One of the subscriber's briefings",
      security: bearerSecurity,
      request: { params: idParamSchema },
      responses: {
        200: json(briefingSchema, "A briefing"),
        304: notModified,
        ...problemResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const subscriber = c.get("subscriber");
      const id = c.req.valid("param").id;
      const tagged = await cachedBriefing(keyOf(subscriber, id), () =>
        getBriefingView(deps, subscriber.id, id),
      );
      return sendTaggedJson(c, tagged) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/stories/{id}",
      tags: ["subscriber"],
      summary: "A story with its summary and sources",
      security: bearerSecurity,
      request: { params: idParamSchema },
      responses: { 200: json(storySchema, "A story"), 304: notModified, ...problemResponses(400, 401, 404) },
    }),
    async (c) =>
      jsonWithEtag(
        c,
        await getStoryForSubscriber(deps, c.get("subscriber").id, c.req.valid("param").id),
      ) as never,
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/stories/{id}/feedback",
      tags: ["subscriber"],
      summary: "Thumbs up/down, more/less like this, or hide the source; shapes the next briefings",
      security: bearerSecurity,
      request: {
        params: idParamSchema,
        body: { required: true, content: { "application/json": { schema: feedbackInputSchema } } },
      },
      responses: { 204: { description: "Recorded" }, ...problemResponses(400, 401, 404) },
    }),
    async (c) => {
      const subscriber = c.get("subscriber");
      await recordFeedback(deps, subscriber, c.req.valid("param").id, c.req.valid("json").signal);
      // hide_source changed the stored profile: the next request must not see a cached copy.
      forgetSubscriberAuth(deps, subscriber.id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/stories/{id}/questions",
      tags: ["subscriber"],
      summary: "Ask about a story: answered from that story's sources only, with citations",
      security: bearerSecurity,
      request: {
        params: idParamSchema,
        body: { required: true, content: { "application/json": { schema: questionInputSchema } } },
      },
      responses: { 200: json(answerSchema, "The answer"), ...problemResponses(400, 401, 404) },
    }),
    async (c) =>
      c.json(
        await answerQuestion(
          deps,
          c.req.valid("param").id,
          c.req.valid("json").question,
          c.get("subscriber").id,
        ),
        200,
      ),
  );

  if (deps.config.ADMIN_TOKEN) {
    app.use("/admin/briefings", adminAuth(deps.config.ADMIN_TOKEN));
    app.openapi(
      createRoute({
        method: "post",
        path: "/admin/briefings",
        tags: ["admin"],
        summary:
          "Build briefings now (each subscriber's local date unless `date` is given; readers where `date` has not begun are skipped)",
        security: bearerSecurity,
        request: {
          body: { required: false, content: { "application/json": { schema: generateInputSchema } } },
        },
        responses: {
          200: json(z.object({ generated: z.number().int(), skipped: z.number().int() }), "What was built"),
          ...problemResponses(400, 401),
        },
      }),
      async (c) => {
        const input = c.req.valid("json") ?? {};
        refuseDateAfterToday(input.date, deps.clock.now());
        const r = await generateBriefings(deps, { ...input, onlyWhereBegun: true });
        return c.json({ generated: r.generated, skipped: r.skipped }, 200);
      },
    );
  }
  return app;
}
