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
    return new TextDecoder(label).decode(body);
  } catch {
    return body.toString("utf8");
  }
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
