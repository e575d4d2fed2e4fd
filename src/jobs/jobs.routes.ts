import { createRoute, z } from "@hono/zod-openapi";
import type { Deps } from "../deps.ts";
import { calendarDateSchema } from "../lib/field-schemas.ts";
import { adminAuth, createRouter, problemResponses, refuseDateAfterToday } from "../lib/http.ts";
import { isStorableTime } from "../lib/time.ts";
import { articleSubmissionSchema, submitArticle } from "../modules/articles/index.ts";
import { sendDueBriefings } from "../modules/delivery/index.ts";
import { listStoriesWithSources } from "../modules/summaries/index.ts";
import { groupAndSummarize, runIngest } from "./pipeline.ts";

const submitted = z.object({
  status: z.enum(["added", "duplicate"]),
  articleId: z.string().nullable(),
  stories: z.number().int(),
});

/** Admin triggers for the stages of the daily run, answered when the stage is done. */
export function createJobRoutes(deps: Deps) {
  const app = createRouter();
  if (!deps.config.ADMIN_TOKEN) return app;
  const security = [{ bearer: [] }];
  for (const path of ["/admin/ingest", "/admin/deliveries", "/admin/stories", "/admin/articles"]) {
    app.use(path, adminAuth(deps.config.ADMIN_TOKEN));
  }
  app.openapi(
    createRoute({
      method: "post",
      path: "/admin/ingest",
      tags: ["admin"],
      summary: "Fetch every source now, group new articles into stories, summarize them",
      security,
      request: {
        // Takes no options: a body, if any, is an empty object (a misspelt option is refused, not ignored).
        body: { required: false, content: { "application/json": { schema: z.object({}).strict() } } },
      },
      responses: {
        200: {
          description: "What the run did, and which sources failed and why (as GET /admin/sources tells)",
          content: {
            "application/json": {
              schema: z.object({
                sources: z.number().int(),
                failed: z.number().int(),
                articles: z.number().int(),
                stories: z.number().int(),
                failures: z.array(z.object({ sourceId: z.string().uuid(), error: z.string() })),
              }),
            },
          },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const r = await runIngest(deps);
      const failures = r.results.flatMap((x) =>
        x.status === "failed" ? [{ sourceId: x.sourceId, error: x.error }] : [],
      );
      return c.json(
        { sources: r.sources, failed: r.failed, articles: r.articles, stories: r.stories, failures },
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/admin/articles",
      tags: ["admin"],
      summary: "Submit one article directly (an integration's push); it is grouped and summarized at once",
      security,
      request: {
        body: { required: true, content: { "application/json": { schema: articleSubmissionSchema } } },
      },
      responses: {
        201: { description: "Stored", content: { "application/json": { schema: submitted } } },
        200: {
          description: "Nothing stored: a duplicate of an article already held (articleId null)",
          content: { "application/json": { schema: submitted } },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const r = await submitArticle(deps, c.req.valid("json"));
      const grouped = await groupAndSummarize(deps);
      // 201 only when something was created (a duplicate created nothing).
      return c.json({ ...r, stories: grouped.stories }, r.status === "added" ? 201 : 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/admin/deliveries",
      tags: ["admin"],
      summary: "Send the briefings that are due now (or all of `date`'s)",
      security,
      request: {
        body: {
          required: false,
          content: {
            "application/json": { schema: z.object({ date: calendarDateSchema.optional() }).strict() },
          },
        },
      },
      responses: {
        200: {
          description: "Outcome counts",
          content: {
            "application/json": {
              schema: z.object({
                sent: z.number().int(),
                failed: z.number().int(),
                skipped: z.number().int(),
              }),
            },
          },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const input = c.req.valid("json") ?? {};
      refuseDateAfterToday(input.date, deps.clock.now());
      return c.json(await sendDueBriefings(deps, input), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/admin/stories",
      tags: ["admin"],
      summary: "Stories seen since a time (all without one), with every URL their articles were seen at",
      security,
      request: {
        query: z.object({
          since: z
            .string()
            .refine(isStorableTime, "must be an ISO 8601 time between the years 1 and 9999")
            .optional(),
        }),
      },
      responses: {
        200: {
          description: "Stories",
          content: {
            "application/json": {
              schema: z.object({
                stories: z.array(
                  z.object({
                    id: z.string(),
                    headline: z.string(),
                    sources: z.array(z.object({ url: z.string(), outlet: z.string() })),
                  }),
                ),
              }),
            },
          },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const { since } = c.req.valid("query");
      // No `since`: every story (newest first, up to 10,000), however old its news.
      return c.json(
        { stories: await listStoriesWithSources(deps, since ? new Date(since) : undefined) },
        200,
      );
    },
  );
  return app;
}
