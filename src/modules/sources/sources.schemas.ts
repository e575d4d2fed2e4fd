import { z } from "@hono/zod-openapi";
import { STORABLE_TEXT, textField } from "../../lib/field-schemas.ts";
import { isStorableText } from "../../lib/text.ts";

// http(s), or one of the bundled sample feeds by file name ("sample:markets.rss").
const isFeedUrl = (v: string) => {
  if (!URL.canParse(v)) return false;
  const url = new URL(v);
  if (url.protocol === "sample:") return /^\w[\w.-]*$/.test(url.pathname) && url.search === "";
  return /^https?:\/\//i.test(v);
};

// Feeds are public: a secret in the URL would sit in the source list and in every log line.
const hasNoCredentials = (v: string) => {
  const url = new URL(v);
  return url.username === "" && url.password === "";
};

/**
 * The one form a feed URL is stored in, so that spellings of the same feed are one source: the
 * WHATWG URL serialization (lower-case scheme and host, IPv4 numbers dotted, default port
 * dropped, dot segments resolved) without the fragment, which no server ever sees, or an empty
 * query; and percent-encoding as RFC 3986 6.2.2 normalizes it: an unreserved character written
 * as %XX is the character ("%7Efeed" is "~feed"), other escapes take upper-case hex ("%2f" is "%2F").
 * Idempotent; text that is not a URL is returned as it is (the refinements before refuse it).
 */
export function normalizeFeedUrl(v: string): string {
  if (!URL.canParse(v)) return v;
  const url = new URL(v);
  url.hash = "";
  // An empty query ("feed.rss?") asks for the same feed: an empty search drops the bare "?".
  if (url.search === "") url.search = "";
  // The serialized host holds no "%" (WHATWG decodes it), nor does anything before it.
  return url.href.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return /^[A-Za-z0-9\-._~]$/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

const LANGUAGE_TAG = "must be a language tag such as en or pt-BR";

export const sourceInputSchema = z
  .object({
    url: z
      .string()
      .refine(isStorableText, { message: STORABLE_TEXT, abort: true })
      .trim()
      .min(1, { message: "is required", abort: true })
      .max(2048, { message: "must be at most 2,048 characters", abort: true })
      .refine(isFeedUrl, { message: "must be an http(s) feed URL (or sample:<file name>)", abort: true })
      .refine(hasNoCredentials, { message: "must not contain a user name or password", abort: true })
      .overwrite(normalizeFeedUrl)
      // Again on the stored form: percent-encoding can lengthen it.
      .max(2048, "must be at most 2,048 characters")
      .openapi({ example: "https://example.com/feed.xml" }),
    name: textField(200).optional(),
    outlet: textField(200).optional(),
    // BCP 47-shaped (en, pt-BR, zh-Hant-TW), 2 to 12 characters: it is copied onto every article.
    language: z
      .string()
      .trim()
      .min(2, { message: LANGUAGE_TAG, abort: true })
      .max(12, { message: LANGUAGE_TAG, abort: true })
      .regex(/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/, LANGUAGE_TAG)
      .optional(),
    fetchIntervalMinutes: z
      .number()
      .int()
      .min(5)
      .max(24 * 60)
      .optional(),
  })
  .strict()
  .openapi("SourceInput");

export type SourceInput = z.input<typeof sourceInputSchema>;

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
