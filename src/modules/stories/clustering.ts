import { entities, terms } from "../../lib/text.ts";
import { addInto, type SparseVector, termFrequencies, topTerms } from "../../lib/vectors.ts";

/** What the clusterer reads of an article. */
export type ClusterDoc = { id: string; title: string; content: string; publishedAt: Date; domain: string };

export type ClusterOptions = {
  /** Cosine (tf-idf) at or above which an article joins a story. */
  threshold: number;
  /** Articles further apart in time than this never share a story. */
  windowMs: number;
  titleWeight: number;
  leadWords: number;
  entityWeight: number;
  /** Terms a story keeps: bounds its size as it grows. */
  storyTerms: number;
  /** Candidate stories must share one of the article's this-many most distinctive terms. */
  probeTerms: number;
  /**
   * Similarity decays with the time between an article and a story's nearest report
   * (e-folding time): reports of one event come close together, and the same words
   * a day or two apart usually mean a new development, a new story.
   */
  decayMs: number;
};

/** Tuned on the evaluation corpus (`npm run eval:clusters`): B-cubed F1 0.95 there. */
export const DEFAULT_CLUSTER_OPTIONS: ClusterOptions = {
  threshold: 0.11,
  windowMs: 72 * 3600_000,
  titleWeight: 4,
  leadWords: 250,
  entityWeight: 2,
  storyTerms: 300,
  probeTerms: 12,
  decayMs: 24 * 3600_000,
};

/** Raw term counts of an article: stemmed words (the title weighted up), named entities as "e:" terms. */
export function articleTerms(
  doc: Pick<ClusterDoc, "title" | "content">,
  opts = DEFAULT_CLUSTER_OPTIONS,
): SparseVector {
  const lead = doc.content.split(/\s+/).slice(0, opts.leadWords).join(" ");
  const v = termFrequencies(terms(lead));
  for (const t of terms(doc.title)) v[t] = (v[t] ?? 0) + opts.titleWeight;
  for (const e of entities(`${doc.title}. ${lead}`)) {
    if (e.includes(" ") || e.length > 3) v[`e:${e}`] = (v[`e:${e}`] ?? 0) + opts.entityWeight;
  }
  return v;
}

/** Document frequencies over a set of term vectors, and the smoothed IDF they imply. */
export class Idf {
  private df = new Map<string, number>();
  private n = 0;
  add(v: SparseVector): void {
    this.n++;
    for (const k in v) this.df.set(k, (this.df.get(k) ?? 0) + 1);
  }
  weight(term: string): number {
    return Math.log((this.n + 1) / ((this.df.get(term) ?? 0) + 1)) + 1;
  }
  /** Sublinear tf × idf, L2-normalized. */
  weigh(v: SparseVector): SparseVector {
    const out: SparseVector = {};
    let sq = 0;
    for (const k in v) {
      const w = (1 + Math.log(v[k]!)) * this.weight(k);
      out[k] = w;
      sq += w * w;
    }
    const norm = Math.sqrt(sq) || 1;
    for (const k in out) out[k]! /= norm;
    return out;
  }
}

export function dot(a: SparseVector, b: SparseVector): number {
  let s = 0;
  const [small, large] = Object.keys(a).length < Object.keys(b).length ? [a, b] : [b, a];
  for (const k in small) {
    const w = large[k];
    if (w !== undefined) s += small[k]! * w;
  }
  return s;
}

/** A story while clustering: `id` is null until it is stored. */
export type LiveStory = {
  id: string | null;
  title: string;
  terms: SparseVector;
  firstSeen: Date;
  lastSeen: Date;
  domains: Set<string>;
  /** Articles added in this run. */
  added: ClusterDoc[];
};

/**
 * Incremental single-pass clustering over a window of stories: each article joins the most
 * similar story (cosine of tf-idf vectors, candidates found through an inverted index) or
 * starts a new one. Pure and in memory; the stories service loads and stores around it.
 */
export class StoryClusterer {
  readonly stories: LiveStory[];
  private readonly idf = new Idf();
  private readonly postings = new Map<string, Set<LiveStory>>();
  private readonly weighted = new Map<LiveStory, SparseVector>();
  private readonly docTerms = new Map<string, SparseVector>();

  constructor(
    window: LiveStory[],
    pending: ClusterDoc[],
    private readonly opts: ClusterOptions = DEFAULT_CLUSTER_OPTIONS,
  ) {
    this.stories = [...window];
    for (const s of window) this.idf.add(s.terms);
    for (const d of pending) {
      const v = articleTerms(d, opts);
      this.docTerms.set(d.id, v);
      this.idf.add(v);
    }
    for (const s of window) this.index(s);
  }

  private index(s: LiveStory): void {
    this.weighted.set(s, this.idf.weigh(s.terms));
    for (const t in s.terms) {
      const set = this.postings.get(t);
      if (set) set.add(s);
      else this.postings.set(t, new Set([s]));
    }
  }

  /** Places one article; returns its story and the similarity that decided it. */
  assign(doc: ClusterDoc): { story: LiveStory; score: number; joined: boolean } {
    const raw = this.docTerms.get(doc.id) ?? articleTerms(doc, this.opts);
    const vec = this.idf.weigh(raw);
    const probes = Object.entries(vec)
      .sort((x, y) => y[1] - x[1])
      .slice(0, this.opts.probeTerms)
      .map(([t]) => t);
    const candidates = new Set<LiveStory>();
    for (const t of probes) for (const s of this.postings.get(t) ?? []) candidates.add(s);
    let best: LiveStory | null = null;
    let bestScore = 0;
    const t = doc.publishedAt.getTime();
    for (const s of candidates) {
      const gap = Math.max(0, t - s.lastSeen.getTime(), s.firstSeen.getTime() - t);
      if (gap > this.opts.windowMs) continue;
      const score = dot(vec, this.weighted.get(s)!) * Math.exp(-gap / this.opts.decayMs);
      if (score > bestScore) {
        bestScore = score;
        best = s;
      }
    }
    if (best && bestScore >= this.opts.threshold) {
      best.terms = topTerms(addInto({ ...best.terms }, raw), this.opts.storyTerms);
      if (doc.publishedAt > best.lastSeen) best.lastSeen = doc.publishedAt;
      if (doc.publishedAt < best.firstSeen) best.firstSeen = doc.publishedAt;
      best.added.push(doc);
      best.domains.add(doc.domain);
      this.index(best);
      return { story: best, score: bestScore, joined: true };
    }
    const story: LiveStory = {
      id: null,
      title: doc.title,
      terms: topTerms({ ...raw }, this.opts.storyTerms),
      firstSeen: doc.publishedAt,
      lastSeen: doc.publishedAt,
      domains: new Set([doc.domain]),
      added: [doc],
    };
    this.stories.push(story);
    this.index(story);
    return { story, score: bestScore, joined: false };
  }
}
