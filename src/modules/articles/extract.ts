import { Readability } from "@mozilla/readability";
import { Parser } from "htmlparser2";
import { parseHTML } from "linkedom";
import type { Fetcher } from "../../integrations/http/fetcher.ts";
import { htmlToText, wordCount } from "../../lib/text.ts";
import { decodeBody } from "./feed.parser.ts";
import { MAX_URL_CHARS } from "./normalize.ts";

export type ExtractedArticle =
  | {
      status: "ok";
      text: string;
      title: string | null;
      canonicalUrl: string | null;
      language: string | null;
      byline: string | null;
      wordCount: number;
    }
  | { status: "paywalled"; canonicalUrl: string | null; reason: string }
  | { status: "unreachable"; reason: string };

// Past this much HTML the article body is long over; parsing the rest only costs time.
const MAX_HTML = 2 * 1024 * 1024;
// Readability's work grows with the cube of the page's nesting (measured: 100 levels 0.13 s, 1,000
// levels 6 s, 2,000 levels 61 s of a worker's event loop) and linkedom's parse faster than linearly
// (100,000 levels: 6.7 s): a page beyond these is not read (the feed's teaser stays). Real article
// pages nest 15 to 60 deep (sloppy markup leaves some elements open) and hold a few thousand elements.
const MAX_DEPTH = 200;
const MAX_ELEMENTS = 30_000;
// Fewer words than this is a stub, a link list or an error page, not an article.
const MIN_ARTICLE_WORDS = 40;
// A page marked as paywalled that yields less than this is showing its teaser only.
const PAYWALL_TEASER_WORDS = 80;
// An extract that is mostly link text is a listing (a section front, a related-links box).
const MAX_LINK_SHARE = 0.5;

const ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5";
const PAYWALL_MARKER = /paywall|regwall|subscriber-only|subscribers-only/i;
const SUBSCRIPTION_PROMPT =
  /subscribe (?:now |today )?to (?:continue|keep) reading|to continue reading,? (?:please )?(?:subscribe|sign in|log in)|(?:for|only for) (?:paying |paid )?subscribers|subscribers only|already a subscriber|become a (?:member|subscriber) to (?:read|continue)|(?:sign in|log in|register) to read (?:the|this) (?:full )?(?:article|story)/i;

// The part of the DOM this module touches: linkedom ships its types against lib.dom, which
// this project does not load, so its document arrives untyped.
type DomElement = {
  tagName: string;
  textContent: string | null;
  innerHTML: string;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<DomElement> & Iterable<DomElement>;
  remove(): void;
};
type DomDocument = {
  documentElement: DomElement | null;
  body: DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement> & Iterable<DomElement>;
};

/**
 * The main text of an article page, with what is known about it: canonical URL, language,
 * byline. Pages behind a paywall come back as `paywalled` (with the canonical URL, so the
 * entry can still link to the original); pages without an article as `unreachable`. No I/O.
 */
export function extractArticle(html: string, pageUrl: string): ExtractedArticle {
  const capped = html.length > MAX_HTML ? html.slice(0, MAX_HTML) : html;
  const tooComplex = complexity(capped);
  if (tooComplex) return { status: "unreachable", reason: `page not read: ${tooComplex}` };
  const { document } = parseHTML(withDocumentShell(capped)) as unknown as { document: DomDocument };
  // Never let script, style or fallback markup reach the text or the prompt check.
  for (const el of [
    ...document.querySelectorAll("script:not([type='application/ld+json']), style, noscript, template"),
  ])
    el.remove();

  const canonicalUrl = findCanonicalUrl(document, pageUrl);
  const language = findLanguage(document);
  if (isMarkedNotFree(document)) {
    return { status: "paywalled", canonicalUrl, reason: "schema.org markup: isAccessibleForFree is false" };
  }
  const hasPaywallMarker = [...document.querySelectorAll("[class], [id]")].some((el) =>
    PAYWALL_MARKER.test(`${el.getAttribute("class") ?? ""} ${el.getAttribute("id") ?? ""}`),
  );
  const pageText = document.body?.textContent ?? "";
  const hasSubscriptionPrompt = SUBSCRIPTION_PROMPT.test(pageText.replace(/\s+/g, " "));

  let parsed: ReturnType<Readability<DomElement>["parse"]>;
  try {
    parsed = new Readability<DomElement>(document, { serializer: (node) => node as DomElement }).parse();
  } catch (err) {
    return { status: "unreachable", reason: `page could not be parsed: ${(err as Error).message}` };
  }
  const content = parsed?.content ?? null;
  const text = content ? htmlToText(content.innerHTML) : "";
  const words = wordCount(text);
  const linkWords = content
    ? [...content.querySelectorAll("a")].reduce((n, a) => n + wordCount(a.textContent ?? ""), 0)
    : 0;

  if (hasPaywallMarker && words < PAYWALL_TEASER_WORDS) {
    return {
      status: "paywalled",
      canonicalUrl,
      reason: `paywall marker on the page, ${words} words of text`,
    };
  }
  if (words < MIN_ARTICLE_WORDS || linkWords > words * MAX_LINK_SHARE) {
    if (hasSubscriptionPrompt) {
      return { status: "paywalled", canonicalUrl, reason: "subscription prompt and no article text" };
    }
    return { status: "unreachable", reason: "no article text found" };
  }
  return {
    status: "ok",
    text,
    title: clean(parsed?.title),
    canonicalUrl,
    language,
    byline: clean(parsed?.byline),
    wordCount: words,
  };
}

/**
 * Why a page is too deep or too large to parse and read, or null: one pass of htmlparser2 (which
 * closes implied and void elements as browsers do), stopped at the first level or element past
 * the limits, so its own cost stays linear in the page.
 */
function complexity(html: string): string | null {
  let depth = 0;
  let elements = 0;
  let why: string | null = null;
  const stop = new Error("too complex");
  const parser = new Parser(
    {
      onopentag() {
        if (++depth > MAX_DEPTH) why = `nested more than ${MAX_DEPTH} levels deep`;
        else if (++elements > MAX_ELEMENTS) why = `more than ${MAX_ELEMENTS} elements`;
        if (why) throw stop;
      },
      onclosetag() {
        depth--;
      },
    },
    { decodeEntities: false },
  );
  try {
    parser.write(html);
    parser.end();
  } catch (err) {
    if (err !== stop) throw err;
  }
  return why;
}

/**
 * GETs an article page and extracts it. Failures are values: network errors and HTTP errors
 * are `unreachable` with the reason, 401/402/403 are `paywalled`.
 */
export async function fetchArticleText(fetcher: Fetcher, url: string): Promise<ExtractedArticle> {
  let res: Awaited<ReturnType<Fetcher["get"]>>;
  try {
    res = await fetcher.get({ url, accept: ACCEPT_HTML });
  } catch (err) {
    return { status: "unreachable", reason: err instanceof Error ? err.message : String(err) };
  }
  if (res.status === 401 || res.status === 402 || res.status === 403) {
    return { status: "paywalled", canonicalUrl: null, reason: `HTTP ${res.status}` };
  }
  if (res.status >= 400 || res.status < 200 || res.status === 304) {
    return { status: "unreachable", reason: `HTTP ${res.status}` };
  }
  const mediaType = res.contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (mediaType && mediaType !== "text/html" && mediaType !== "application/xhtml+xml") {
    return { status: "unreachable", reason: `not an HTML page (${mediaType})` };
  }
  const body = res.body.length > MAX_HTML ? res.body.subarray(0, MAX_HTML) : res.body;
  const contentType = withMetaCharset(body, res.contentType);
  const html = decodeBody(body, contentType);
  // Relative canonical links resolve against where the page was found, after redirects.
  return extractArticle(html, res.url);
}

/** decodeBody reads the charset from the header; HTML may declare it in a <meta> instead. */
function withMetaCharset(body: Buffer, contentType: string | null): string | null {
  if (contentType && /charset=/i.test(contentType)) return contentType;
  const head = body.subarray(0, 1024).toString("latin1");
  const declared =
    head.match(/<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i)?.[1] ??
    head.match(/<meta[^>]+content\s*=\s*["'][^"']*charset=([\w.:-]+)/i)?.[1];
  return declared ? `text/html; charset=${declared}` : contentType;
}

/**
 * linkedom does not build the implied <html> and <body> of the HTML spec: content outside a
 * <body> tag ends up where Readability never looks. Supply the missing tags.
 */
function withDocumentShell(html: string): string {
  let out = html;
  if (!/<html[\s>]/i.test(out)) out = `<html>${out.replace(/^\s*<!doctype[^>]*>/i, "")}</html>`;
  if (!/<body[\s>]/i.test(out)) {
    const after = out.match(/<\/head\s*>/i) ?? out.match(/<html[^>]*>/i);
    if (after?.index !== undefined) {
      const at = after.index + after[0].length;
      out = `${out.slice(0, at)}<body>${out.slice(at)}`;
    }
  }
  return out;
}

function findCanonicalUrl(document: DomDocument, pageUrl: string): string | null {
  for (const link of document.querySelectorAll("link[rel][href]")) {
    const rel = (link.getAttribute("rel") ?? "").toLowerCase().split(/\s+/);
    if (rel.includes("canonical")) {
      const url = resolveHttpUrl(link.getAttribute("href"), pageUrl);
      if (url) return url;
    }
  }
  for (const meta of document.querySelectorAll("meta[property], meta[name]")) {
    if (metaKey(meta) === "og:url") {
      const url = resolveHttpUrl(meta.getAttribute("content"), pageUrl);
      if (url) return url;
    }
  }
  return null;
}

function resolveHttpUrl(href: string | null, base: string): string | null {
  if (!href?.trim()) return null;
  try {
    const url = new URL(href.trim(), base);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    // A page naming an absurdly long canonical address is not believed: the feed's link stays.
    return url.href.length <= MAX_URL_CHARS ? url.href : null;
  } catch {
    return null;
  }
}

function findLanguage(document: DomDocument): string | null {
  const fromHtml = normalizeLanguage(document.documentElement?.getAttribute("lang"));
  if (fromHtml) return fromHtml;
  for (const meta of document.querySelectorAll("meta[http-equiv]")) {
    if (meta.getAttribute("http-equiv")?.toLowerCase() === "content-language") {
      const lang = normalizeLanguage(meta.getAttribute("content"));
      if (lang) return lang;
    }
  }
  for (const meta of document.querySelectorAll("meta[property], meta[name]")) {
    if (metaKey(meta) === "og:locale") {
      const lang = normalizeLanguage(meta.getAttribute("content"));
      if (lang) return lang;
    }
  }
  return null;
}

/** "en-US", "en_GB", "EN" -> "en"; anything that is not a two-letter code -> null. */
function normalizeLanguage(value: string | null | undefined): string | null {
  const primary = value?.split(",")[0]?.trim().split(/[-_]/)[0]?.toLowerCase();
  return primary && /^[a-z]{2}$/.test(primary) ? primary : null;
}

function metaKey(meta: DomElement): string {
  return (meta.getAttribute("property") ?? meta.getAttribute("name") ?? "").trim().toLowerCase();
}

/** schema.org paywall markup: `isAccessibleForFree: false` anywhere in the page's JSON-LD. */
function isMarkedNotFree(document: DomDocument): boolean {
  for (const script of document.querySelectorAll("script[type]")) {
    if (script.getAttribute("type")?.trim().toLowerCase() !== "application/ld+json") continue;
    let data: unknown;
    try {
      data = JSON.parse(script.textContent ?? "");
    } catch {
      continue;
    }
    if (hasNotFreeFlag(data, 0)) return true;
  }
  return false;
}

function hasNotFreeFlag(value: unknown, depth: number): boolean {
  if (depth > 8 || value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((v) => hasNotFreeFlag(v, depth + 1));
  for (const [key, v] of Object.entries(value)) {
    if (
      key === "isAccessibleForFree" &&
      (v === false || (typeof v === "string" && v.trim().toLowerCase() === "false"))
    )
      return true;
    if (hasNotFreeFlag(v, depth + 1)) return true;
  }
  return false;
}

function clean(value: string | null | undefined): string | null {
  const v = value?.replace(/\s+/g, " ").trim();
  return v ? v : null;
}
