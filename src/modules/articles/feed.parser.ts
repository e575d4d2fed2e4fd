import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { parseWithFeedsmith } from "./feed.formats.ts";

/** One entry of a feed, format-independent, before normalization. */
export type FeedEntry = {
  guid: string | null;
  url: string | null;
  title: string | null;
  /** HTML or text: the fullest body the feed carries. */
  body: string | null;
  author: string | null;
  publishedAt: Date | null;
  categories: string[];
};

export type ParsedFeed = {
  title: string | null;
  language: string | null;
  url: string | null;
  entries: FeedEntry[];
};

/** Picks the charset: BOM, then the Content-Type header, then the XML declaration; UTF-8 otherwise. */
export function decodeBody(body: Buffer, contentType: string | null): string {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return body.subarray(3).toString("utf8");
  if (body[0] === 0xff && body[1] === 0xfe) return new TextDecoder("utf-16le").decode(body.subarray(2));
  if (body[0] === 0xfe && body[1] === 0xff) return new TextDecoder("utf-16be").decode(body.subarray(2));
  const fromHeader = contentType?.match(/charset="?([\w.:-]+)/i)?.[1];
  const head = body.subarray(0, 200).toString("latin1");
  const fromDecl = head.match(/^<\?xml[^>]*encoding=["']([\w.:-]+)["']/i)?.[1];
  const label = (fromHeader ?? fromDecl ?? "utf-8").toLowerCase();
  try {
    const text = new TextDecoder(label).decode(body);
    return WINDOWS_1252_LABELS.has(label) ? repairWindows1252(text) : text;
  } catch {
    return body.toString("utf8");
  }
}

// The WHATWG labels that all mean windows-1252.
const WINDOWS_1252_LABELS = new Set(
  "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252".split(
    " ",
  ),
);
// windows-1252 bytes 0x80-0x9f; the five it leaves undefined stay as they are.
const WINDOWS_1252_C1 =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

/**
 * Node 20.18.3 and later decode windows-1252 as ISO-8859-1 (nodejs/node#56542), turning curly
 * quotes, dashes and the euro sign into C1 control characters. Map them back; on a Node that
 * decodes correctly there are none to map.
 */
function repairWindows1252(text: string): string {
  return text.replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!);
}

const jsonFeedSchema = z.object({
  version: z.string().startsWith("https://jsonfeed.org/version/"),
  title: z.string().optional(),
  home_page_url: z.string().optional(),
  language: z.string().optional(),
  items: z.array(
    z.object({
      id: z.union([z.string(), z.number()]).transform(String),
      url: z.string().optional(),
      title: z.string().optional(),
      content_html: z.string().optional(),
      content_text: z.string().optional(),
      summary: z.string().optional(),
      date_published: z.string().optional(),
      date_modified: z.string().optional(),
      authors: z.array(z.object({ name: z.string().optional() })).optional(),
      author: z.object({ name: z.string().optional() }).optional(),
      tags: z.array(z.string()).optional(),
    }),
  ),
});

function parseDate(s: string | undefined | null): Date | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : new Date(t);
}

/**
 * RSS 2.0, RSS 1.0 (RDF) and Atom through feedsmith (see feed.formats.ts for why); JSON Feed
 * validated by zod so a bad one gets a message that names the field.
 */
export function parseFeed(text: string): ParsedFeed {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{")) {
    let raw: unknown;
    try {
      raw = JSON.parse(trimmed);
    } catch {
      throw new AppError("VALIDATION", "not a feed: the body is malformed JSON");
    }
    const parsed = jsonFeedSchema.safeParse(raw);
    if (!parsed.success)
      throw new AppError("VALIDATION", `not a JSON Feed: ${parsed.error.issues[0]?.message}`);
    const f = parsed.data;
    return {
      title: f.title ?? null,
      language: f.language ?? null,
      url: f.home_page_url ?? null,
      entries: f.items.map((i) => ({
        guid: i.id,
        url: i.url ?? null,
        title: i.title ?? null,
        body: i.content_html ?? i.content_text ?? i.summary ?? null,
        author: i.authors?.[0]?.name ?? i.author?.name ?? null,
        publishedAt: parseDate(i.date_published ?? i.date_modified),
        categories: i.tags ?? [],
      })),
    };
  }
  if (/^(<!doctype html|<html[\s>])/i.test(trimmed)) {
    throw new AppError("VALIDATION", "not a feed: the URL returned an HTML page");
  }
  try {
    return parseWithFeedsmith(text);
  } catch (err) {
    throw new AppError("VALIDATION", `not a feed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
