/**
 * Summary quality of the offline (extractive) summarizer on the corpus: ROUGE-1/2/L F1 against
 * each event's human roundup, next to a lead-3 baseline computed in the same run, and the
 * citation checks every stored summary must pass (validity, coverage, support).
 *   npm run eval:summaries -- ../shared/corpus/allsides-dev.jsonl   (or the corpus directory)
 *
 * Each event's own articles are summarized (clustering is evaluated by eval:clusters). ROUGE
 * here: lower-cased alphanumeric tokens, no stemming, no stopword removal; ROUGE-L is the LCS of
 * the whole token sequences.
 */
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { splitSentences } from "../src/lib/text.ts";
import { type SourceArticle, summarizeExtractive, verifySummary } from "../src/modules/summaries/index.ts";
import { loadCorpus } from "./corpus.ts";

const tokens = (s: string) => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];

function ngrams(t: string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= t.length; i++) {
    const k = t.slice(i, i + n).join(" ");
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

const f1 = (overlap: number, candidate: number, reference: number) => {
  if (overlap === 0 || candidate === 0 || reference === 0) return 0;
  const p = overlap / candidate;
  const r = overlap / reference;
  return (2 * p * r) / (p + r);
};

function rougeN(cand: string[], ref: string[], n: number): number {
  const c = ngrams(cand, n);
  const r = ngrams(ref, n);
  let overlap = 0;
  for (const [k, v] of c) overlap += Math.min(v, r.get(k) ?? 0);
  return f1(overlap, Math.max(0, cand.length - n + 1), Math.max(0, ref.length - n + 1));
}

function rougeL(cand: string[], ref: string[]): number {
  let prev = new Array<number>(ref.length + 1).fill(0);
  for (let i = 1; i <= cand.length; i++) {
    const row = new Array<number>(ref.length + 1).fill(0);
    for (let j = 1; j <= ref.length; j++)
      row[j] = cand[i - 1] === ref[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    prev = row;
  }
  return f1(prev[ref.length]!, cand.length, ref.length);
}

function score(cand: string, ref: string) {
  const c = tokens(cand);
  const r = tokens(ref);
  return { r1: rougeN(c, r, 1), r2: rougeN(c, r, 2), rl: rougeL(c, r), words: c.length };
}

type Totals = { r1: number; r2: number; rl: number; words: number };
const add = (t: Totals, s: Totals) => {
  t.r1 += s.r1;
  t.r2 += s.r2;
  t.rl += s.rl;
  t.words += s.words;
};
const mean = (t: Totals, n: number) => ({
  rouge1: +(t.r1 / n).toFixed(4),
  rouge2: +(t.r2 / n).toFixed(4),
  rougeL: +(t.rl / n).toFixed(4),
  meanWords: +(t.words / n).toFixed(1),
});

function main() {
  const arg = process.argv[2];
  if (!arg) throw new Error("usage: npm run eval:summaries -- <corpus dir or allsides-dev.jsonl>");
  const dir = statSync(arg).isDirectory() ? arg : dirname(arg);
  const events = loadCorpus(dir).filter((e) => e.articles.length > 0 && e.roundup.join(" ").trim());
  const started = performance.now();
  const zero = () => ({ r1: 0, r2: 0, rl: 0, words: 0 });
  const offline = zero();
  const offlineKeyPoints = zero();
  const lead3 = zero();
  let citations = 0;
  let valid = 0;
  let items = 0;
  let cited = 0;
  let sentences = 0;
  let supported = 0;
  let singleSource = 0;
  for (const e of events) {
    const reference = e.roundup.join(" ");
    const sources: SourceArticle[] = e.articles.map((a, i) => ({
      n: i + 1,
      title: a.title,
      content: a.body.join("\n\n"),
    }));
    if (sources.length === 1) singleSource++;
    const s = summarizeExtractive(sources);
    add(offline, score([...s.keyPoints, ...s.analysis].map((x) => x.text).join(" "), reference));
    add(offlineKeyPoints, score(s.keyPoints.map((x) => x.text).join(" "), reference));
    add(lead3, score(splitSentences(sources[0]!.content).slice(0, 3).join(" "), reference));
    const v = verifySummary(s, sources);
    citations += v.citations;
    valid += v.validCitations;
    items += v.items;
    cited += v.citedItems;
    sentences += v.sentences;
    supported += v.supported;
  }
  const n = events.length;
  const offlineMean = mean(offline, n);
  const leadMean = mean(lead3, n);
  const result = {
    benchmark: "eval-summaries",
    corpus: "allsides-dev",
    events: n,
    singleSourceEvents: singleSource,
    reference: "the event's human roundup",
    offline: offlineMean,
    offlineKeyPointsOnly: mean(offlineKeyPoints, n),
    lead3: leadMean,
    offlineBeatsLead3: offlineMean.rouge1 > leadMean.rouge1,
    citationValidity: +(valid / Math.max(1, citations)).toFixed(4),
    citationCoverage: +(cited / Math.max(1, items)).toFixed(4),
    supportRate: +(supported / Math.max(1, sentences)).toFixed(4),
    target: { rouge1: "above lead-3", citationValidity: 1, citationCoverage: 1 },
    seconds: +((performance.now() - started) / 1000).toFixed(2),
  };
  console.log(JSON.stringify(result, null, 2));
}

main();
