import type { CitedText } from "../../db/schema/index.ts";
import { STOPWORDS, splitSentences, terms } from "../../lib/text.ts";
import type { SourceArticle } from "./extractive.ts";

export type Problem = {
  reason:
    | "invalid_citation"
    | "missing_citation"
    | "unsupported"
    | "unknown_number"
    | "unknown_name"
    | "unknown_quote"
    | "markup"
    | "format";
  /** Where in the draft: "keyPoints[1]", "analysis[0]", "headline", "answer[2]". */
  where: string;
  detail: string;
};

export type Verification = {
  ok: boolean;
  problems: Problem[];
  /** Cited sentences checked for support, and how many passed. */
  sentences: number;
  supported: number;
  /** Citations seen, and how many point at a source of the story. */
  citations: number;
  validCitations: number;
  /** Key points and paragraphs, and how many carry at least one citation. */
  items: number;
  citedItems: number;
};

/**
 * The share of a sentence's content words found in its cited source, within the best window of
 * WINDOW consecutive sentences (a claim is usually made in one place, not assembled from words
 * scattered over an article). Below SUPPORT_THRESHOLD the sentence is unsupported.
 */
export const SUPPORT_THRESHOLD = 0.6;
const WINDOW = 3;
// Sentences this short carry too few content words for a share to mean much: every one of them
// must be in the cited window ("The chairman was arrested." passed unchecked).
const MIN_TERMS = 3;
// The headline paraphrases the whole story: most of its content words must occur somewhere in it.
const HEADLINE_THRESHOLD = 0.6;

/**
 * Links, HTML and Markdown in model text. Readers get plain sentences whose only links are the
 * cited sources; a link in a model's text is either invented or planted by an article's text
 * ("include the link to the full report at ..."), and reached the app and the email as written.
 */
const MARKUP = /https?:\/\/|\bwww\.[a-z0-9-]+\.|<\/?[a-z!][^>]*>|\]\(|\*\*|__|`|^\s*#{1,6}\s/im;

type IndexedSource = {
  n: number;
  windows: Set<string>[];
  /** Whether each window holds a negation, and each sentence's terms and whether it holds one. */
  negatedWindows: boolean[];
  sentences: { terms: Set<string>; negates: Set<string> }[];
  lower: string;
  normalized: string;
  numbers: Set<string>;
};

const normalize = (s: string) =>
  s
    .toLowerCase()
    .replace(/[‘’]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();

/** Figures as written ("3.5", "1,200" -> "1200"), without units: "$4 billion" and "4bn" both give "4". */
export function numbersIn(text: string): string[] {
  return [...text.matchAll(/\d[\d,]*(?:\.\d+)?/g)].map((m) =>
    m[0].replace(/,(?=\d{3}\b)/g, "").replace(/,$/, ""),
  );
}

/** Capitalized words that are not the first of a sentence or a quote: names, places, organisations. */
export function namesIn(text: string): string[] {
  const out: string[] = [];
  for (const sentence of splitSentences(text)) {
    const words = [...sentence.matchAll(/(^|[\s(])["“‘']?([A-Z][\p{L}'’.-]*[\p{L}])/gu)];
    for (const m of words) {
      if (m.index === 0 || m.index === undefined) continue;
      const before = sentence.slice(0, m.index + m[1]!.length);
      if (/[:;.!?]\s*$/.test(before)) continue;
      const w = m[2]!.replace(/['’]s$/, "");
      if (STOPWORDS.has(w.toLowerCase())) continue;
      out.push(w);
    }
  }
  return out;
}

/** Quoted passages of three or more words. */
export function quotesIn(text: string): string[] {
  return [...text.matchAll(/[“"]([^”"]{3,}?)[”"]/g)]
    .map((m) => m[1]!.trim())
    .filter((q) => q.split(/\s+/).length >= 3);
}

/**
 * Words that turn a statement into its opposite. Word overlap cannot see them (most are stopwords),
 * so "It is false that the bank raised rates" and "The bank raised rates" look alike to it.
 */
const NEGATIONS = "not|no|never|none|nobody|nothing|neither|nor|cannot|false|untrue";
const NEGATION = new RegExp(`\\b(?:${NEGATIONS})\\b|n['’]t\\b`, "i");
// In a source, words that say no as well: "declined to comment" supports "did not comment".
const SAYS_NO = new RegExp(
  `\\b(?:${NEGATIONS}|den(?:y|ies|ied)|declin\\w*|refus\\w*|reject\\w*|unchanged|fail\\w*|without|lack\\w*)\\b|n['’]t\\b`,
  "i",
);
// Negation words that negate nothing: "the No. 1 maker", "not only", "no fewer than".
const NOT_NEGATING =
  /\bno\.\s*\d|\bnot only\b|\bno (?:fewer|less|more|sooner|longer|later|earlier) than\b|\bnothing (?:short of|but)\b|\bno doubt\b/gi;
const withoutIdioms = (text: string) => text.replace(NOT_NEGATING, " ");
/** A sentence as it speaks for itself: idioms and quoted words (someone else's) left out. */
const ownWords = (text: string) => withoutIdioms(text).replace(/["“][^"”]*["”]/g, " ");
/**
 * The stems a negation in `sentence` governs: the content words of the three after each "not",
 * "no", "never" or "-n't" ("did not raise its prices" -> rais, price).
 */
function negatedStems(sentence: string): Set<string> {
  const words = withoutIdioms(sentence)
    .toLowerCase()
    .split(/[^\p{L}\p{N}'’]+/u)
    .filter(Boolean);
  const out = new Set<string>();
  words.forEach((w, i) => {
    if (/^(?:not|no|never|cannot)$|n['’]t$/.test(w))
      for (const t of terms(words.slice(i + 1, i + 4).join(" "))) out.add(t);
  });
  return out;
}
// A model sentence this close to one source sentence restates it: a negation one has and the
// other lacks turns it round.
const RESTATES = 0.8;

function indexSource(s: SourceArticle): IndexedSource {
  const raw = [s.title, ...splitSentences(s.content)];
  const sentences = raw.map((x) => terms(x));
  const negated = raw.map((x) => SAYS_NO.test(withoutIdioms(x)));
  const windows: Set<string>[] = [];
  const negatedWindows: boolean[] = [];
  for (let i = 0; i < sentences.length; i++) {
    windows.push(new Set(sentences.slice(i, i + WINDOW).flat()));
    negatedWindows.push(negated.slice(i, i + WINDOW).some(Boolean));
  }
  const full = `${s.title}\n${s.content}`;
  return {
    n: s.n,
    windows,
    negatedWindows,
    sentences: sentences.map((t, i) => ({ terms: new Set(t), negates: negatedStems(raw[i]!) })),
    lower: ` ${normalize(full)} `,
    normalized: normalize(full),
    numbers: new Set(numbersIn(full)),
  };
}

/** Content-word recall of `sentence` against the best window of the given sources. */
export function supportScore(sentence: string, sources: { windows: Set<string>[] }[]): number {
  const want = [...new Set(terms(sentence))];
  if (want.length === 0) return 1;
  let best = 0;
  for (const s of sources) {
    for (const w of s.windows) {
      let hit = 0;
      for (const t of want) if (w.has(t)) hit++;
      best = Math.max(best, hit / want.length);
    }
  }
  return best;
}

/**
 * Whether `sentence` says the opposite of what its sources say, judged by negations alone: in its
 * own words (not a quote) it negates and no passage that supports it says no in any way ("It is
 * false that <a source's sentence>"), or it restates source sentences that negate one of its own
 * words, without a negation (a dropped "not"). A negation elsewhere in a sentence ("record profit,
 * though it gave no guidance") does not count: wrongly refused, a correct draft costs a retry.
 */
function contradicts(sentence: string, sources: IndexedSource[], threshold: number): boolean {
  const want = [...new Set(terms(sentence))];
  if (want.length === 0) return false;
  const recall = (have: Set<string>) => want.filter((t) => have.has(t)).length / want.length;
  if (NEGATION.test(ownWords(sentence))) {
    const supporting = sources.flatMap((s) => s.windows.map((w, i) => ({ w, negated: s.negatedWindows[i] })));
    return !supporting.some((x) => x.negated && recall(x.w) >= threshold);
  }
  if (NEGATION.test(withoutIdioms(sentence))) return false; // its negation is in a quote it gives
  const restated = sources.flatMap((s) => s.sentences).filter((x) => recall(x.terms) >= RESTATES);
  return restated.length > 0 && restated.every((x) => want.some((t) => x.negates.has(t)));
}

/**
 * Checks a draft against the story's own articles: citations name real sources, every key point
 * and paragraph cites at least one, every sentence is supported by what it cites, and figures,
 * names and quotes occur in the cited articles (in any source, for the uncited headline).
 */
export function verifySummary(
  draft: { headline?: string; keyPoints: CitedText[]; analysis: CitedText[] },
  sources: SourceArticle[],
  opts: { threshold?: number; section?: [string, string]; headlineSupport?: boolean } = {},
): Verification {
  const threshold = opts.threshold ?? SUPPORT_THRESHOLD;
  const indexed = new Map(sources.map((s) => [s.n, indexSource(s)]));
  const all = [...indexed.values()];
  const v: Verification = {
    ok: true,
    problems: [],
    sentences: 0,
    supported: 0,
    citations: 0,
    validCitations: 0,
    items: 0,
    citedItems: 0,
  };
  const [first, second] = opts.section ?? ["keyPoints", "analysis"];
  const checkFacts = (text: string, where: string, against: IndexedSource[]) => {
    if (MARKUP.test(text))
      v.problems.push({
        reason: "markup",
        where,
        detail: "has a link, HTML or Markdown: plain sentences only",
      });
    for (const num of numbersIn(text)) {
      if (!against.some((s) => s.numbers.has(num)))
        v.problems.push({ reason: "unknown_number", where, detail: `"${num}" is not in the cited sources` });
    }
    for (const name of namesIn(text)) {
      if (!against.some((s) => s.lower.includes(` ${normalize(name)} `)))
        v.problems.push({ reason: "unknown_name", where, detail: `"${name}" is not in the cited sources` });
    }
    for (const q of quotesIn(text)) {
      if (!against.some((s) => s.normalized.includes(normalize(q))))
        v.problems.push({
          reason: "unknown_quote",
          where,
          detail: `the quote "${q}" is not in the cited sources`,
        });
    }
  };

  if (draft.headline) checkFacts(draft.headline, "headline", all);
  if (draft.headline && opts.headlineSupport !== false) {
    const story = [{ windows: [new Set(all.flatMap((src) => src.windows.flatMap((w) => [...w])))] }];
    const score = supportScore(draft.headline, story);
    if (score < HEADLINE_THRESHOLD)
      v.problems.push({
        reason: "unsupported",
        where: "headline",
        detail: `only ${Math.round(score * 100)}% of the headline's words are in the story's articles`,
      });
  }
  const sections: [string, CitedText[]][] = [
    [first, draft.keyPoints],
    [second, draft.analysis],
  ];
  for (const [name, items] of sections) {
    items.forEach((item, i) => {
      const where = `${name}[${i}]`;
      v.items++;
      v.citations += item.citations.length;
      const cited = item.citations.map((n) => indexed.get(n)).filter((s): s is IndexedSource => !!s);
      v.validCitations += cited.length;
      for (const n of item.citations) {
        if (!indexed.has(n))
          v.problems.push({
            reason: "invalid_citation",
            where,
            detail: `[${n}] is not a source of this story`,
          });
      }
      if (item.citations.length === 0) {
        v.problems.push({ reason: "missing_citation", where, detail: "cites no source" });
        return;
      }
      v.citedItems++;
      if (cited.length === 0) return;
      for (const sentence of splitSentences(item.text)) {
        v.sentences++;
        const score = supportScore(sentence, cited);
        if (score < (new Set(terms(sentence)).size < MIN_TERMS ? 1 : threshold))
          v.problems.push({
            reason: "unsupported",
            where,
            detail: `only ${Math.round(score * 100)}% of "${sentence.slice(0, 80)}" is found in [${item.citations.join(", ")}]`,
          });
        else if (contradicts(sentence, cited, threshold))
          v.problems.push({
            reason: "unsupported",
            where,
            detail: `"${sentence.slice(0, 80)}" negates what [${item.citations.join(", ")}] says, or drops its negation`,
          });
        else v.supported++;
      }
      checkFacts(item.text, where, cited);
    });
  }
  v.ok = v.problems.length === 0;
  return v;
}

/**
 * Figures, names and quotes of `text` that occur in none of `sources`, and links or markup: for
 * text that cites nothing (why it matters), whose words are the reader's, not the story's.
 */
export function verifyFacts(text: string, sources: SourceArticle[]): Problem[] {
  const v = verifySummary({ headline: text, keyPoints: [], analysis: [] }, sources, {
    headlineSupport: false,
  });
  return v.problems.map((p) => ({ ...p, where: "text" }));
}
