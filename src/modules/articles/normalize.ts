import { createHash } from "node:crypto";
import { simhash } from "../../lib/simhash.ts";
import {
  CONTROL_CHARS,
  detectLanguage,
  htmlToText,
  sliceWhole,
  toWellFormed,
  wordCount,
} from "../../lib/text.ts";
import type { FeedEntry } from "./feed.parser.ts";

const TRACKING_PARAMS =
  /^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_hsenc|_hsmi|ref|ref_src|cmpid|ito|ocid|smid|sr_share|taid|at_medium|at_campaign|__twitter_impression)$/i;

/** The URL an article is known by: no fragment, no tracking parameters, lower-case host. */
export function canonicalUrl(raw: string, base?: string): string {
  const u = new URL(raw, base);
  u.hash = "";
  // A user name or password in a link would be shown to every reader of a citation.
  u.username = "";
  u.password = "";
  u.hostname = u.hostname.toLowerCase();
  for (const key of [...u.searchParams.keys()]) if (TRACKING_PARAMS.test(key)) u.searchParams.delete(key);
  if ((u.protocol === "https:" && u.port === "443") || (u.protocol === "http:" && u.port === "80"))
    u.port = "";
  return u.toString();
}

export function domainOf(url: string): string {
  return new URL(url).hostname.replace(/^www\./, "");
}

export function contentHash(text: string): string {
  return createHash("sha256").update(text.toLowerCase().replace(/\s+/g, " ").trim()).digest("hex");
}

/** "en-US", "EN", "en_gb" -> "en"; anything unrecognizable -> null. */
export function normalizeLanguage(lang: string | null | undefined): string | null {
  const m = lang
    ?.trim()
    .toLowerCase()
    .match(/^([a-z]{2,3})(?:[-_].*)?$/);
  return m ? m[1]! : null;
}

/** A normalized article, ready to store. */
export type NormalizedArticle = {
  /** The canonical URL the article is known by (the page's rel=canonical when it names one). */
  url: string;
  /** The feed's link, when the page named another URL of its site as canonical. */
  link?: string;
  guid: string | null;
  title: string;
  outlet: string;
  domain: string;
  author: string | null;
  publishedAt: Date;
  language: string | null;
  content: string;
  wordCount: number;
  contentHash: string;
  simhash: bigint;
  status: "ok" | "teaser" | "paywalled" | "unreachable";
};

// Below this many words a feed entry is a teaser, not the article.
const TEASER_WORDS = 60;

export type NormalizeContext = {
  feedUrl: string;
  outlet: string;
  language: string | null;
  now: Date;
};

// A hostile or broken feed must not put a megabyte headline in every briefing: a real headline is
// under 300 characters and a long read under 100,000.
const MAX_TITLE_CHARS = 1_000;
export const MAX_CONTENT_CHARS = 200_000;
const MAX_AUTHOR_CHARS = 200;
const MAX_OUTLET_CHARS = 200;
// Before this an item's date is a feed's error (year 1, year 0, a negative year), not news.
const EARLIEST_PUBLISHED = Date.UTC(1900, 0, 1);
// Links are what citations point to and what an article is known by (a unique index, whose
// entries PostgreSQL caps at ~2.7 KB): a longer one is not a real article's address. The same
// bound as a source's feed URL.
export const MAX_URL_CHARS = 2_048;
// A GUID is an opaque key, only compared: a longer one is cut, not refused.
const MAX_GUID_CHARS = 1_000;

/** An author as stored, from a feed's author field or a page's byline: plain text, capped. */
export function authorText(raw: string): string {
  return sliceWhole(htmlToText(raw), MAX_AUTHOR_CHARS);
}

/**
 * An outlet's name from a feed's own title, as headlines are cleaned: plain text (a title of
 * "<script>...</script>Evil Outlet" reached the plain-text email as written), no control or
 * direction characters, capped (a 140,000-character title made an 880 KB email); null when
 * nothing is left.
 */
export function outletText(raw: string | null | undefined): string | null {
  if (!raw) return null;
  return sliceWhole(htmlToText(raw).replace(/\s+/g, " "), MAX_OUTLET_CHARS) || null;
}

/**
 * Entry -> article, or a reason it cannot be one. Dates in the future (clock skew, scheduled
 * posts) or missing become the fetch time, so ordering by time never trusts a bad feed.
 */
export function normalizeEntry(
  entry: FeedEntry,
  ctx: NormalizeContext,
): { ok: true; article: NormalizedArticle } | { ok: false; reason: string } {
  const rawUrl = entry.url ?? (entry.guid && /^https?:\/\//.test(entry.guid) ? entry.guid : null);
  if (!rawUrl) return { ok: false, reason: "entry has no link" };
  let url: string;
  try {
    url = canonicalUrl(rawUrl, /^https?:/.test(ctx.feedUrl) ? ctx.feedUrl : undefined);
  } catch {
    return { ok: false, reason: `entry link is not a URL: ${rawUrl.slice(0, 100)}` };
  }
  if (!/^https?:$/.test(new URL(url).protocol))
    return { ok: false, reason: `entry link is not http(s): ${url.slice(0, 100)}` };
  if (url.length > MAX_URL_CHARS)
    return {
      ok: false,
      reason: `entry link is longer than ${MAX_URL_CHARS} characters: ${url.slice(0, 100)}...`,
    };
  const titleText = htmlToText(entry.title ?? "")
    .replace(/\s+/g, " ")
    .trim();
  const title = sliceWhole(titleText, MAX_TITLE_CHARS);
  const content = sliceWhole(htmlToText(entry.body ?? ""), MAX_CONTENT_CHARS);
  if (!title && !content) return { ok: false, reason: "entry has neither title nor text" };
  const published = entry.publishedAt;
  const publishedAt =
    !published ||
    Number.isNaN(published.getTime()) ||
    published.getTime() < EARLIEST_PUBLISHED ||
    published.getTime() > ctx.now.getTime() + 5 * 60_000
      ? ctx.now
      : published;
  const words = wordCount(content);
  return {
    ok: true,
    article: {
      url,
      guid: entry.guid
        ? sliceWhole(toWellFormed(entry.guid).replace(CONTROL_CHARS, ""), MAX_GUID_CHARS)
        : entry.guid,
      title: title || sliceWhole(content, 120),
      outlet: ctx.outlet,
      domain: domainOf(url),
      author: entry.author ? authorText(entry.author) : null,
      publishedAt,
      language: normalizeLanguage(ctx.language) ?? detectLanguage(`${title}. ${content}`),
      content: content || title,
      wordCount: words,
      contentHash: contentHash(`${title}\n${content}`),
      simhash: simhash(`${title} ${content}`),
      status: words < TEASER_WORDS ? "teaser" : "ok",
    },
  };
}
