import { z } from "@hono/zod-openapi";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../lib/errors.ts";
import { blankToUndefined, textField } from "../../lib/field-schemas.ts";
import { looksLikeHtml } from "../../lib/text.ts";
import { isStorableTime } from "../../lib/time.ts";
import { storeArticles } from "./articles.service.ts";
import { domainOf, MAX_URL_CHARS, normalizeEntry } from "./normalize.ts";

/** An article pushed by an integration instead of read from a feed. */
export const articleSubmissionSchema = z
  .object({
    url: z
      .string()
      .trim()
      .max(MAX_URL_CHARS, "must be at most 2,048 characters")
      .refine((v) => /^https?:\/\//i.test(v) && URL.canParse(v), "must be an http(s) URL")
      .openapi({ example: "https://example.com/2026/11/27/story" }),
    title: z.string().trim().min(1, "must not be empty").max(500),
    text: z.string().trim().min(1, "must not be empty").max(200_000, "must be at most 200,000 characters"),
    // Shown in citations, emails and share pages: one line, as a source's outlet is.
    outlet: textField(200).optional(),
    author: z.preprocess(blankToUndefined, textField(200).optional()),
    language: z.string().trim().max(12).optional(),
    publishedAt: z
      .string()
      .refine(isStorableTime, "must be an ISO 8601 time between the years 1 and 9999")
      .optional(),
  })
  .strict()
  .openapi("ArticleSubmission");
export type ArticleSubmission = z.infer<typeof articleSubmissionSchema>;

/** Normalizes and stores one pushed article (or records it as another appearance of one held). */
export async function submitArticle(
  deps: Pick<Deps, "db" | "clock">,
  input: ArticleSubmission,
): Promise<{ status: "added" | "duplicate"; articleId: string | null }> {
  const r = normalizeEntry(
    {
      guid: input.url,
      url: input.url,
      title: input.title,
      body: input.text,
      // Plain text unless it carries markup: "profits rose by <10% while x<y" lost all after "x".
      bodyIsText: !looksLikeHtml(input.text),
      titleIsText: !looksLikeHtml(input.title),
      author: input.author ?? null,
      publishedAt: input.publishedAt ? new Date(input.publishedAt) : null,
      categories: [],
    },
    {
      feedUrl: input.url,
      outlet: input.outlet ?? domainOf(input.url),
      language: input.language ?? null,
      now: deps.clock.now(),
    },
  );
  if (!r.ok) throw new AppError("VALIDATION", `the article cannot be stored: ${r.reason}`);
  const stored = await storeArticles(deps, null, [r.article]);
  return stored.added
    ? { status: "added", articleId: stored.ids[0]! }
    : { status: "duplicate", articleId: null };
}
