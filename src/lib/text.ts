import { Tokenizer } from "htmlparser2";

const BLOCK = new Set([
  "p",
  "div",
  "br",
  "li",
  "ul",
  "ol",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "blockquote",
  "section",
  "article",
  "header",
  "footer",
  "tr",
  "table",
  "figure",
  "figcaption",
  "pre",
  "hr",
]);
const SKIP = new Set(["script", "style", "noscript", "template", "iframe", "object", "svg", "head"]);

/**
 * Feed HTML to plain text: markup is dropped (nothing of it is ever rendered again), entities
 * decoded, block elements become paragraph breaks. Plain text in, plain text out.
 *
 * Reads htmlparser2's tokens, not its Parser: the Parser keeps open elements in an array it
 * unshifts, so deeply nested markup cost quadratic time (160,000 nested <div>, 1.7 MB, took 19 s
 * of a worker's event loop). Only script-like and block elements matter here, and neither needs
 * the tree.
 */
export function htmlToText(html: string): string {
  const out: string[] = [];
  let skipDepth = 0;
  let tag = "";
  const nameOf = (start: number, end: number) => html.slice(start, end).toLowerCase();
  const noop = () => {};
  const tokenizer = new Tokenizer(
    { decodeEntities: true },
    {
      onopentagname(start, end) {
        tag = nameOf(start, end);
        if (SKIP.has(tag)) skipDepth++;
        else if (BLOCK.has(tag)) out.push("\n\n");
      },
      onselfclosingtag() {
        // <svg/> (foreign markup) holds nothing; an HTML <script/> still opens a script.
        if (tag === "svg") skipDepth = Math.max(0, skipDepth - 1);
      },
      onclosetag(start, end) {
        const name = nameOf(start, end);
        if (SKIP.has(name)) skipDepth = Math.max(0, skipDepth - 1);
        else if (BLOCK.has(name)) out.push("\n\n");
      },
      ontext(start, end) {
        if (skipDepth === 0) out.push(html.slice(start, end));
      },
      ontextentity(codepoint) {
        if (skipDepth === 0) out.push(String.fromCodePoint(codepoint));
      },
      onattribdata: noop,
      onattribentity: noop,
      onattribend: noop,
      onattribname: noop,
      oncdata: noop,
      oncomment: noop,
      ondeclaration: noop,
      onend: noop,
      onopentagend: noop,
      onprocessinginstruction: noop,
    },
  );
  tokenizer.write(html);
  tokenizer.end();
  return tidyText(out.join(""));
}

/**
 * Plain text as htmlToText leaves HTML: paragraphs at blank lines, spaces collapsed, controls and
 * invisible formatting dropped; "<" and "&" are the text's own ("x<y", "AT&T", "&notanentity;").
 */
export function plainText(text: string): string {
  return tidyText(text);
}

/**
 * Whether a field that may be HTML or plain text is HTML: it has a tag ("<p>", "</b>", "<br/>",
 * "<svg/onload=...>"), an element that acts even left open ("<img src=x onerror=..."), or text
 * escaped for HTML ("&lt;", "&amp;", "&#8217;"). "x<y", "a<b was expected", "<10%" and
 * "&notanentity;" are text.
 */
export const looksLikeHtml = (text: string) =>
  /<\/?[a-z][a-z0-9-]*(?:[\s/][^<>]*)?>/i.test(text) || ACTIVE_ELEMENT.test(text) || HTML_ESCAPE.test(text);
const ACTIVE_ELEMENT =
  /<\/?(?:script|style|iframe|img|svg|object|embed|form|input|button|textarea|select|link|meta|base|video|audio|source|math|body|html|frame|frameset|template|noscript)(?=[\s/>]|$)/i;
const HTML_ESCAPE = /&(?:lt|gt|amp|quot|apos|nbsp|#\d{1,7}|#x[\da-f]{1,6});/i;

function tidyText(text: string): string {
  return toWellFormed(text)
    .replace(CONTROL_CHARS, "")
    .replace(INVISIBLE_FORMATTING, "")
    .split(/\n{2,}/)
    .map((p) => p.replace(/\s+/g, " ").trim())
    .filter(Boolean)
    .join("\n\n");
}

// Direction overrides, embeddings and isolates (U+202A-202E, U+2066-2069), zero-width spaces and
// stray BOMs: invisible, they turn a headline or an email subject around ("gnirts desrever") or
// hide text. Marks a script needs (LRM, RLM, ZWJ, ZWNJ) stay.
const INVISIBLE_FORMATTING = /[\u202A-\u202E\u2066-\u2069\u200B\uFEFF]/g;

/** Text PostgreSQL can store as it was sent: no NUL, no unpaired UTF-16 surrogate. */
export function isStorableText(s: string): boolean {
  // Node 20 has String.prototype.isWellFormed; the ES2023 lib this project compiles against does not declare it.
  return !s.includes("\u0000") && (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Text with every unpaired surrogate replaced by U+FFFD: a JSON feed may escape one ("\ud800"),
 * and no PostgreSQL text or jsonb holds it (one failed its whole feed's batch).
 */
export function toWellFormed(text: string): string {
  // Node 20 has String.prototype.toWellFormed; the ES2023 lib this project compiles against does not declare it.
  return (text as string & { toWellFormed(): string }).toWellFormed();
}

// Control characters (NUL above all, which no PostgreSQL text holds) carry nothing a reader sees;
// one in a feed item or a page must not fail the batch it is stored with. C1 controls
// (U+0080-U+009F) are what windows-1252 text read as Latin-1 leaves behind.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
export const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

/** The first `max` UTF-16 units of `text`, never half of a character (a lone surrogate is not valid JSON text). */
export function sliceWhole(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

export function paragraphs(text: string): string[] {
  return text
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter(Boolean);
}

// Abbreviations that end in a period without ending a sentence.
const ABBREV =
  /(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Gen|Gov|Sen|Rep|Lt|Col|Capt|Inc|Ltd|Corp|Co|vs|etc|No|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.K|E\.U|a\.m|p\.m|i\.e|e\.g)|\b[A-Z])\.$/;

// The longest abbreviation and the character before it, which its \b looks at.
const ABBREV_TAIL = 6;

/** Sentences of a text: splits after . ! ? (and closing quotes) followed by a capital or digit. */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const para of paragraphs(text)) {
    const parts = para.split(/(?<=[.!?]["'”’)\]]?)\s+(?=["'“‘(]?[A-Z0-9])/);
    let pending: string[] = [];
    for (const part of parts) {
      pending.push(part);
      // Only the part's last characters can hold the abbreviation (the longest is "Sept."):
      // testing the whole pending sentence made a text of 40,000 "U.S." take 10 s (quadratic).
      if (ABBREV.test(part.slice(-ABBREV_TAIL))) continue;
      sentences.push(pending.join(" ").trim());
      pending = [];
    }
    if (pending.length > 0) sentences.push(pending.join(" ").trim());
  }
  return sentences.filter((s) => s.length > 0);
}

export function wordCount(text: string): number {
  const m = text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu);
  return m ? m.length : 0;
}

export const STOPWORDS = new Set(
  (
    "a about above after again against all also am an and any are as at be because been before being below between both but by " +
    "can could did do does doing down during each few for from further had has have having he her here hers herself him himself " +
    "his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours " +
    "ourselves out over own same she should so some such than that the their theirs them themselves then there these they this " +
    "those through to too under until up very was we were what when where which while who whom why will with would you your " +
    "yours yourself yourselves said says say according new one two three year years week weeks day days monday tuesday " +
    "wednesday thursday friday saturday sunday month months since still per cent percent may might must like well many much " +
    "last first next get got make made us mr mrs ms told people would could"
  ).split(" "),
);

/** A light suffix stemmer: enough to meet "chips"/"chip", "tariffs"/"tariff", "rates"/"rate". */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith("ies")) return `${w.slice(0, -3)}y`;
  if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith("ed")) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith("es") && /(ss|x|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us") && !w.endsWith("is"))
    w = w.slice(0, -1);
  return w;
}

/** Lower-cased, stemmed content words. */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu)) {
    const w = m[0].replace(/['’]s$/, "");
    if (w.length < 2 || STOPWORDS.has(w) || /^\d+$/.test(w)) continue;
    out.push(stem(w));
  }
  return out;
}

/** Capitalized multi-word names and acronyms: a cheap stand-in for named entities. */
export function entities(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(
    /\b(?:[A-Z][\p{L}&'’-]+|[A-Z]{2,})(?:\s+(?:[A-Z][\p{L}&'’-]+|[A-Z]{2,}))*/gu,
  )) {
    const name = m[0].trim();
    if (name.length < 2 || STOPWORDS.has(name.toLowerCase())) continue;
    found.add(name.toLowerCase());
  }
  return [...found];
}

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = sliceWhole(text, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${space > max * 0.6 ? cut.slice(0, space) : cut}…`;
}

// The most frequent short words of each language: enough to tell them apart on a paragraph.
const LANGUAGE_MARKERS: Record<string, string[]> = {
  en: "the and of to in is that for it with as was on are be this by have from".split(" "),
  de: "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine".split(" "),
  fr: "le la les de des et est un une du en que pour dans qui sur pas au avec".split(" "),
  es: "el la de que y en los del se las por un para con no una su al es".split(" "),
  it: "il di che la e per un in non del una sono della le si con da gli".split(" "),
  pt: "de que o a do da em um para com não uma os no se na por mais as".split(" "),
  nl: "de het een van en in is dat op te zijn met voor niet die aan er".split(" "),
};
const MARKER_SETS = Object.entries(LANGUAGE_MARKERS).map(([lang, words]) => [lang, new Set(words)] as const);

/** A best guess at a text's language (ISO 639-1), or null when the text is too short to tell. */
export function detectLanguage(text: string): string | null {
  const words =
    text
      .toLowerCase()
      .match(/\p{L}+/gu)
      ?.slice(0, 400) ?? [];
  if (words.length < 12) return null;
  let best: string | null = null;
  let bestHits = 0;
  for (const [lang, markers] of MARKER_SETS) {
    let hits = 0;
    for (const w of words) if (markers.has(w)) hits++;
    if (hits > bestHits) {
      bestHits = hits;
      best = lang;
    }
  }
  return bestHits / words.length >= 0.08 ? best : null;
}
