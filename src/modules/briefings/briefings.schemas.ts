import { z } from "@hono/zod-openapi";
import { blankToUndefined, calendarDateSchema, uuidParam, uuidSchema } from "../../lib/field-schemas.ts";
import { isCalendarDate } from "../../lib/time.ts";

const citedTextSchema = z.object({
  text: z.string(),
  citations: z.array(z.number().int()).openapi({ description: "`n` of entries in `sources`" }),
});

export const storySchema = z
  .object({
    id: z.string().uuid(),
    headline: z.string(),
    singleSource: z.boolean(),
    keyPoints: z.array(citedTextSchema),
    analysis: z.array(citedTextSchema),
    whyItMatters: z.string().nullable(),
    sources: z.array(
      z.object({
        n: z.number().int(),
        outlet: z.string(),
        domain: z.string(),
        url: z.string(),
        title: z.string(),
        publishedAt: z.string(),
      }),
    ),
    summaryVersion: z.number().int(),
    generatedBy: z.string().openapi({ description: "extractive | llm" }),
  })
  .openapi("Story");

export const briefingSchema = z
  .object({
    id: z.string().uuid(),
    date: z.string().openapi({ example: "2026-11-28" }),
    subscriberId: z.string().uuid(),
    generatedAt: z.string(),
    items: z.array(
      z.object({ rank: z.number().int(), reason: z.string(), score: z.number(), story: storySchema }),
    ),
    alsoToday: z.array(z.object({ storyId: z.string().uuid(), headline: z.string(), score: z.number() })),
  })
  .openapi("Briefing");

export const briefingListSchema = z
  .object({
    items: z.array(
      z.object({
        id: z.string().uuid(),
        date: z.string(),
        generatedAt: z.string(),
        headlines: z.array(z.string()),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi("BriefingList");

// An empty value is no value: API.md writes the query as `?cursor=&limit=`, and clients send it so.
const unlessEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess(blankToUndefined, schema) as unknown as T;

export const listQuerySchema = z.object({
  cursor: unlessEmpty(z.string().refine(isCalendarDate, "must be a cursor from a previous page").optional()),
  limit: unlessEmpty(
    z.coerce.number().int().min(1, "must be 1 to 50").max(50, "must be 1 to 50").default(20),
  ),
});

export const idParamSchema = z.object({ id: uuidParam() });

export const generateInputSchema = z
  .object({
    date: calendarDateSchema.optional(),
    subscriberIds: z.array(uuidSchema).max(10_000).optional(),
  })
  .strict()
  .openapi("GenerateBriefings");

export const feedbackInputSchema = z
  .object({
    signal: z.enum(["up", "down", "more", "less", "hide_source"], {
      message: "must be one of up, down, more, less, hide_source",
    }),
  })
  .strict()
  .openapi("Feedback");

export const questionInputSchema = z
  .object({
    question: z
      .string()
      .trim()
      .min(3, "must be at least 3 characters")
      .max(500, "must be at most 500 characters"),
  })
  .strict()
  .openapi("Question");

export const answerSchema = z
  .object({
    answer: z.string(),
    citations: z.array(z.number().int()),
    sentences: z.array(citedTextSchema),
    sources: z.array(
      z
        .object({
          n: z.number().int(),
          outlet: z.string(),
          domain: z.string(),
          url: z.string(),
          title: z.string(),
        })
        .passthrough(),
    ),
  })
  .openapi("Answer");
