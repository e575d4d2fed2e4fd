import { z } from "@hono/zod-openapi";

export const sourceInputSchema = z
  .object({
    url: z
      .string()
      .trim()
      .min(1, "is required")
      .max(2048, "must be at most 2,048 characters")
      .refine((v) => /^(https?:\/\/|sample:)/i.test(v) && URL.canParse(v), "must be an http(s) feed URL")
      .openapi({ example: "https://example.com/feed.xml" }),
    name: z.string().trim().min(1).max(200).optional(),
    outlet: z.string().trim().min(1).max(200).optional(),
    language: z.string().trim().min(2).max(12).optional(),
    fetchIntervalMinutes: z
      .number()
      .int()
      .min(5)
      .max(24 * 60)
      .optional(),
  })
  .openapi("SourceInput");

export type SourceInput = z.infer<typeof sourceInputSchema>;

export const sourceSchema = z
  .object({
    id: z.string().uuid(),
    url: z.string(),
    name: z.string(),
    outlet: z.string().nullable(),
    language: z.string().nullable(),
    enabled: z.boolean(),
    fetchIntervalMinutes: z.number().int(),
    health: z.object({
      lastFetchedAt: z.string().nullable(),
      lastSuccessAt: z.string().nullable(),
      consecutiveFailures: z.number().int(),
      lastError: z.string().nullable(),
      nextFetchAt: z.string().nullable(),
    }),
    createdAt: z.string(),
  })
  .openapi("Source");
