import { TextDecoder } from "node:util";
import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { parseFeedDate } from "../../lib/feed-dates.ts";
import { parseWithFeedsmith } from "./feed.formats.ts";

/** One entry of a feed, format-independent, before normalization. */
export type FeedEntry = {
  guid: string | null;
  url: string | null;
  title: string | null;
  /** HTML or text: the fullest body the feed carries. */
  body: string | null;
  /** The body is plain text, not HTML (a JSON Feed's content_text, a submission without markup). */
  bodyIsText?: boolean;
  /** The title is plain text, not HTML (a submission without markup). */
  titleIsText?: boolean;
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

function decoderFor(label: string): TextDecoder | null {
  try {
    return new TextDecoder(label);
  } catch {
    return null;
  }
}

// 0x80-0x9F of windows-1252, which the web (and WHATWG) means by ISO-8859-1 and ASCII too.
// Node 20's TextDecoder reads these labels as strict Latin-1, turning “quotes” and € into
// control characters, so they are mapped here.
const CP1252_HIGH =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

function decodeWith(label: string, body: Buffer): string {
  const decoder = decoderFor(label) ?? new TextDecoder("utf-8");
  if (decoder.encoding !== "windows-1252") return decoder.decode(body);
  return body.toString("latin1").replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

function validUtf8(body: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/** Whether any byte is beyond ASCII (so the bytes being valid UTF-8 says something). */
const hasMultibyteUtf8 = (body: Buffer) => body.some((b) => b >= 0x80);

/**
 * Picks the charset: BOM, then the Content-Type header, then the XML declaration; UTF-8
 * otherwise. Two common server mistakes are corrected: a header saying UTF-8 over bytes that are
 * not (the declaration, or windows-1252, is used instead), and a Latin-1 header or declaration
 * over bytes that are valid UTF-8 with characters beyond ASCII.
 */
export function decodeBody(body: Buffer, contentType: string | null): string {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return body.subarray(3).toString("utf8");
  if (body[0] === 0xff && body[1] === 0xfe) return new TextDecoder("utf-16le").decode(body.subarray(2));
  if (body[0] === 0xfe && body[1] === 0xff) return new TextDecoder("utf-16be").decode(body.subarray(2));
  // UTF-16 without a BOM still starts "<?": 3C 00 3F 00 or 00 3C 00 3F.
  if (body[0] === 0x3c && body[1] === 0 && body[2] === 0x3f && body[3] === 0)
    return new TextDecoder("utf-16le").decode(body);
  if (body[0] === 0 && body[1] === 0x3c && body[2] === 0 && body[3] === 0x3f)
    return new TextDecoder("utf-16be").decode(body);
  const fromHeader = contentType?.match(/charset\s*=\s*["']?([\w.:-]+)/i)?.[1]?.toLowerCase();
  const head = body.subarray(0, 512).toString("latin1");
  const fromDecl = head.match(/^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']/i)?.[1]?.toLowerCase();
  const header = fromHeader && decoderFor(fromHeader) ? fromHeader : undefined;
  const declared = fromDecl && decoderFor(fromDecl) ? fromDecl : undefined;
  let label = header ?? declared ?? "utf-8";
  const isUtf8 = (l: string | undefined) => l === "utf-8" || l === "utf8";
  if (isUtf8(label) && !validUtf8(body)) {
    label = declared && !isUtf8(declared) ? declared : "windows-1252";
  } else if (decoderFor(label)?.encoding === "windows-1252" && hasMultibyteUtf8(body) && validUtf8(body)) {
    // Latin-1 text almost never forms valid UTF-8 sequences ("Ã©" for "é" is what reading UTF-8
    // as Latin-1 shows): a header or declaration naming Latin-1 over such bytes is the mistake.
    label = "utf-8";
  }
  return decodeWith(label, body);
}

// Optional fields may be null (some generators write every field, null when empty), and one bad
// item is left out rather than losing the feed: a title of null failed every item of its feed.
const optionalText = z.string().nullish();
const jsonFeedItemSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  url: optionalText,
  external_url: optionalText,
  title: optionalText,
  content_html: optionalText,
  content_text: optionalText,
  summary: optionalText,
  date_published: optionalText,
  date_modified: optionalText,
  authors: z.array(z.object({ name: optionalText }).nullable()).nullish(),
  author: z.object({ name: optionalText }).nullish(),
  tags: z.array(z.unknown()).nullish(),
});
const jsonFeedSchema = z.object({
  version: z.string().startsWith("https://jsonfeed.org/version/"),
  title: optionalText,
  home_page_url: optionalText,
  language: optionalText,
  items: z.array(z.unknown()),
});

const notAFeed = (why: string) => new AppError("VALIDATION", `not a feed: ${why}`);

function parseJsonFeed(text: string): ParsedFeed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw notAFeed("the body is malformed JSON");
  }
  const parsed = jsonFeedSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw notAFeed(`bad JSON Feed (${field}${issue?.message})`);
  }
  const f = parsed.data;
  const items = f.items.map((item) => jsonFeedItemSchema.safeParse(item));
  const valid = items.flatMap((r) => (r.success ? [r.data] : []));
  if (valid.length === 0 && items.length > 0) {
    const at = items.findIndex((r) => !r.success);
    const issue = (items[at] as { error: z.ZodError }).error.issues[0];
    const field = ["items", at, ...(issue?.path ?? [])].join(".");
    throw notAFeed(`bad JSON Feed (${field}: ${issue?.message})`);
  }
  return {
    title: f.title ?? null,
    language: f.language ?? null,
    url: f.home_page_url ?? null,
    entries: valid.map((i) => ({
      guid: i.id,
      url: i.url ?? i.external_url ?? null,
      title: i.title ?? null,
      body: i.content_html ?? i.content_text ?? i.summary ?? null,
      bodyIsText: !i.content_html && Boolean(i.content_text),
      author: i.authors?.[0]?.name ?? i.author?.name ?? null,
      publishedAt: parseFeedDate(i.date_published ?? i.date_modified),
      categories: (i.tags ?? [])
        .filter((t): t is string | number => typeof t === "string" || typeof t === "number")
        .map(String),
    })),
  };
}

type Prolog = {
  /** The DOCTYPE declaration, internal subset included. */
  doctype: string | null;
  /** The root element's start tag (up to 4 KB of it), or null when there is none. */
  rootTag: string | null;
};

/** Reads past the XML declaration, comments, processing instructions and the DOCTYPE. */
function readProlog(text: string): Prolog {
  let doctype: string | null = null;
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text.startsWith("<?", i) || text.startsWith("<!--", i)) {
      const close = text.startsWith("<?", i) ? "?>" : "-->";
      const end = text.indexOf(close, i);
      if (end < 0) return { doctype, rootTag: null };
      i = end + close.length;
      continue;
    }
    if (text.slice(i, i + 9).toUpperCase() === "<!DOCTYPE") {
      const gt = text.indexOf(">", i);
      const bracket = text.indexOf("[", i);
      let end: number;
      if (bracket >= 0 && (gt < 0 || bracket < gt)) {
        const close = /\]\s*>/g;
        close.lastIndex = bracket;
        const m = close.exec(text);
        end = m ? m.index + m[0].length : text.length;
      } else end = gt < 0 ? text.length : gt + 1;
      doctype = text.slice(i, end);
      i = end;
      continue;
    }
    if (text[i] !== "<") return { doctype, rootTag: null };
    const gt = text.indexOf(">", i);
    return { doctype, rootTag: text.slice(i, gt < 0 ? i + 4096 : Math.min(gt + 1, i + 4096)) };
  }
}

function parseXmlFeed(text: string): { feed: ParsedFeed; xmlBase: string | null } {
  const { doctype, rootTag } = readProlog(text);
  // Entities a document declares for itself are how "billion laughs" attacks are built; no real
  // feed needs them (feedsmith would leave them unexpanded anyway).
  if (doctype && /<!ENTITY/i.test(doctype)) throw notAFeed("entity declarations are not allowed");
  const root = rootTag?.match(/^<([\w:.-]+)/)?.[1] ?? null;
  if (/^<!doctype\s+html/i.test(doctype ?? "") || /^(html|head|body)$/i.test(root ?? "")) {
    throw notAFeed("the URL returned an HTML page");
  }
  if (!root) throw notAFeed("the body is neither XML nor JSON");
  let feed: ParsedFeed;
  try {
    feed = parseWithFeedsmith(text);
  } catch (err) {
    const e = err as Error & { cause?: unknown };
    if (e.name === "DetectError") throw notAFeed(`<${root}> is not an RSS, RDF or Atom document`);
    if (e.cause instanceof Error) throw notAFeed(`malformed XML (${e.cause.message})`);
    if (e.name === "ParseError") throw notAFeed(`<${root}> holds no readable feed`);
    throw notAFeed(e.message || String(err));
  }
  const xmlBase = rootTag?.match(/\sxml:base\s*=\s*(["'])(.*?)\1/)?.[2] ?? null;
  return { feed, xmlBase };
}

/** `href` made absolute against `base`; as it was when that cannot be done. */
function resolveUrl(href: string | null, base: string | null): string | null {
  if (!href || !base) return href;
  try {
    return new URL(href, base).toString();
  } catch {
    return href;
  }
}

const httpBase = (url: string | null | undefined): string | null => {
  if (!url) return null;
  try {
    return /^https?:$/.test(new URL(url).protocol) ? url : null;
  } catch {
    return null;
  }
};

/**
 * Relative links made absolute (xml:base, else the site's link, else where the feed was
 * fetched), dates that are no dates dropped, and an entry repeated under the same GUID and link
 * kept once. The same GUID on different links is two articles from a careless feed, kept both.
 */
function tidy(feed: ParsedFeed, xmlBase: string | null, fetchedFrom: string | undefined): ParsedFeed {
  const docBase = httpBase(fetchedFrom);
  const declaredBase = httpBase(resolveUrl(xmlBase, docBase));
  const site = resolveUrl(feed.url, declaredBase ?? docBase);
  const base = declaredBase ?? httpBase(site) ?? docBase;
  const seen = new Set<string>();
  const entries: FeedEntry[] = [];
  for (const entry of feed.entries) {
    const url = resolveUrl(entry.url, base);
    if (entry.guid) {
      const key = `${entry.guid}\n${url ?? ""}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    const d = entry.publishedAt;
    const publishedAt = d instanceof Date && !Number.isNaN(d.getTime()) ? d : null;
    entries.push({ ...entry, url, publishedAt });
  }
  return { ...feed, url: site, entries };
}

/**
 * RSS 2.0, RSS 1.0 (RDF) and Atom through feedsmith (see feed.formats.ts for why); JSON Feed
 * validated by zod so a bad one gets a message that names the field. `fetchedFrom`, the URL the
 * feed came from, is the last resort for resolving relative links. Anything that is not a feed
 * fails with a VALIDATION error whose message starts "not a feed:".
 */
export function parseFeed(text: string, fetchedFrom?: string): ParsedFeed {
  const doc = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = doc.trimStart();
  if (!trimmed) throw notAFeed("the body is empty");
  if (trimmed.startsWith("{")) return tidy(parseJsonFeed(trimmed), null, fetchedFrom);
  const { feed, xmlBase } = parseXmlFeed(doc);
  return tidy(feed, xmlBase, fetchedFrom);
}
