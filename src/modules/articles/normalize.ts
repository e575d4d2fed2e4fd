import { createHash } from "node:crypto";
import { simhash } from "../../lib/simhash.ts";
import {
  CONTROL_CHARS,
  detectLanguage,
  htmlToText,
  paragraphs,
  plainText,
  sliceWhole,
  splitSentences,
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
// Up to this an item's date is a feed's error (year 1, year 0, a negative year) or a placeholder
// for "no date" (1900-01-01, the Unix epoch), not news: the fetch time stands in. A kept 1900 date
// hid the story from every briefing and from /admin/stories.
const LATEST_PLACEHOLDER_DATE = Date.UTC(1970, 0, 1);
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
 * A feed field's text: htmlToText, and again when the field was escaped twice: entities escaped
 * once more ("&amp;quot;", "&amp;lt;"), or escaped tags ("&lt;p&gt;") in a field with no markup
 * of its own. Readers saw "<p>" and "&quot;" in key points and headlines. A field that has markup
 * and shows escaped tags in it ("Browsers still render &lt;p&gt;") means them as text, and text
 * showing active markup (<script>, <img>...) is left as written: inert text says more than
 * silently dropping it would.
 */
function feedText(raw: string): string {
  let input = raw;
  let text = htmlToText(input);
  for (let pass = 0; pass < 2 && escapedTwice(input) && !ACTIVE_MARKUP.test(text); pass++) {
    input = text;
    text = htmlToText(input);
  }
  return text;
}
const escapedTwice = (field: string) =>
  ENTITY_ESCAPED_AGAIN.test(field) || (!/<[a-z!/]/i.test(field) && ESCAPED_TAG.test(field));
const ENTITY_ESCAPED_AGAIN = /&amp;(?:amp|quot|lt|gt|apos|nbsp|#\d{2,6}|#x[\da-f]{2,6});/i;
const ESCAPED_TAG = /&lt;\/?(?:p|br|div|span|a|b|i|em|strong|ul|ol|li|h[1-6])\b[^&]{0,200}?&gt;/i;
const ACTIVE_MARKUP = /<\/?(?:script|style|iframe|img|svg|object|embed|form|input|link|meta|video|audio)\b/i;

// What feed generators append to an item's text: WordPress' "The post X appeared first on Y",
// "Read more" and "Continue reading" links, "[…]" excerpt marks, share buttons, related links.
// Readers saw them as key points. Whole paragraphs only, or the very end of the last one, where
// the tail patterns start on a sentence's (or the paragraph's) beginning.
const BOILERPLATE_PARAGRAPH = [
  /^the post [^\n]{1,400} appeared first on [^\n]{1,200}$/i,
  /^(?:read more|continue reading|keep reading|read the (?:full|rest of the|whole) (?:story|article|post)|full story|view (?:the )?(?:full )?article|click here to read more)\b.{0,80}$/i,
  /^related(?: (?:stories|articles|posts|coverage|reading|links))?:/i,
  /^(?:this (?:article|story|post) (?:was )?(?:originally )?(?:appeared|published)|originally published (?:at|on|in|by))\b.{0,200}$/i,
  /^(?:\[(?:…|\.\.\.)\]|…|\.\.\.)$/,
];
// Share lines are word lists ("Share on Facebook | Tweet | Email"): checked word by word, as a
// regex over repeated optional words backtracked for minutes on "share email share email ...".
const SHARE_WORDS = new Set(
  "share tweet email e-mail print pin like post on via this to it facebook twitter x linkedin whatsapp reddit pinterest threads bluesky".split(
    " ",
  ),
);
const isShareLine = (p: string) => {
  const words = p
    .toLowerCase()
    .split(/[\s|·•,:]+/)
    .filter(Boolean);
  return (
    words.length > 0 &&
    words.length <= 20 &&
    /^(?:share|tweet|email|e-mail|print|pin)$/.test(words[0]!) &&
    words.every((w) => SHARE_WORDS.has(w))
  );
};
const BOILERPLATE_TAIL = [
  /(?:^|(?<=[.!?…]))\s*the post [^.!?\n]{1,400} appeared first on [^.\n]{1,200}\.?$/i,
  /(?:^|(?<=[.!?…»]))\s*\b(?:read more|continue reading|keep reading|read the full (?:story|article))\s*(?:»|›|→|>>|\.{3}|…)?$/i,
  /\s*\[(?:…|\.\.\.|&hellip;)\]$/,
];

// Boilerplate is short: longer paragraphs are the article's own (and never reach the patterns).
const isBoilerplate = (p: string) =>
  p.length <= 700 && (isShareLine(p) || BOILERPLATE_PARAGRAPH.some((re) => re.test(p)));

/** A feed item's text without the boilerplate its generator added (see BOILERPLATE_PARAGRAPH). */
export function withoutBoilerplate(text: string): string {
  const kept = paragraphs(text).filter((p) => !isBoilerplate(p));
  const last = kept.pop();
  if (last === undefined) return "";
  // The tail patterns are anchored at the end: only the last 700 characters are searched.
  const head = last.slice(0, Math.max(0, last.length - 700));
  let tail = last.slice(head.length);
  for (let before = ""; before !== tail; ) {
    before = tail;
    for (const re of BOILERPLATE_TAIL) tail = tail.replace(re, "");
    tail = tail.trimEnd();
  }
  const rest = `${head}${tail}`.trim();
  if (rest) kept.push(rest);
  return kept.join("\n\n");
}

/**
 * A headline for an item without a usable title: its first sentence, cut on a word with "…"
 * when long. (The first 120 characters, cut anywhere, made a two-sentence headline.)
 */
function headlineFrom(content: string): string {
  const first = splitSentences(content.split(/\n{2,}/)[0] ?? "")[0] ?? content;
  if (first.length <= HEADLINE_FROM_TEXT_CHARS) return first;
  const cut = sliceWhole(first, HEADLINE_FROM_TEXT_CHARS - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > HEADLINE_FROM_TEXT_CHARS / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, "")}…`;
}
const HEADLINE_FROM_TEXT_CHARS = 100;

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
  const titleText = (entry.titleIsText ? plainText : feedText)(entry.title ?? "")
    .replace(/\s+/g, " ")
    .trim();
  // A title of only symbols or emoji ("🔥") says nothing in a list of headlines.
  const title = /[\p{L}\p{N}]/u.test(titleText) ? sliceWhole(titleText, MAX_TITLE_CHARS) : "";
  const content = sliceWhole(
    withoutBoilerplate((entry.bodyIsText ? plainText : feedText)(entry.body ?? "")),
    MAX_CONTENT_CHARS,
  );
  if (!title && !content) return { ok: false, reason: "entry has neither title nor text" };
  const published = entry.publishedAt;
  const publishedAt =
    !published ||
    Number.isNaN(published.getTime()) ||
    published.getTime() <= LATEST_PLACEHOLDER_DATE ||
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
      title: title || headlineFrom(content),
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
