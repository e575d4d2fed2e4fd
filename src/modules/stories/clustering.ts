import { entities, terms } from "../../lib/text.ts";
import { type SparseVector, termFrequencies, topTerms } from "../../lib/vectors.ts";

/** What the clusterer reads of an article. */
export type ClusterDoc = {
  id: string;
  title: string;
  content: string;
  publishedAt: Date;
  domain: string;
  /** Unit-length embedding, when a model is configured. */
  embedding?: number[] | null;
};

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
  /**
   * With embeddings: cosine between an article and a story's mean embedding at which it joins
   * (raised by `embeddingGapPenalty` per `decayMs` of time between them).
   */
  embeddingThreshold: number;
  embeddingGapPenalty: number;
};

/** Tuned on the evaluation corpus (`npm run eval:clusters`): B-cubed F1 0.95 there. */
export const DEFAULT_CLUSTER_OPTIONS: ClusterOptions = {
  threshold: 0.11,
  windowMs: 72 * 3600_000,
  titleWeight: 4,
  leadWords: 250,
  entityWeight: 2,
  storyTerms: 200,
  probeTerms: 12,
  decayMs: 24 * 3600_000,
  // A guess for text-embedding-3-small: no real model is reachable here to tune it on.
  embeddingThreshold: 0.82,
  embeddingGapPenalty: 0.05,
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
  get size(): number {
    return this.n;
  }
  add(v: SparseVector): void {
    this.n++;
    for (const k in v) this.df.set(k, (this.df.get(k) ?? 0) + 1);
  }
  remove(v: SparseVector): void {
    this.n--;
    for (const k in v) {
      const d = (this.df.get(k) ?? 1) - 1;
      if (d <= 0) this.df.delete(k);
      else this.df.set(k, d);
    }
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

/** The `k` heaviest terms of a vector (a partial selection: no full sort). */
function heaviest(v: SparseVector, k: number): string[] {
  const terms: string[] = [];
  const weights: number[] = [];
  for (const t in v) {
    const w = v[t]!;
    if (terms.length === k && w <= weights[k - 1]!) continue;
    let i = terms.length === k ? k - 1 : terms.length;
    while (i > 0 && weights[i - 1]! < w) {
      terms[i] = terms[i - 1]!;
      weights[i] = weights[i - 1]!;
      i--;
    }
    terms[i] = t;
    weights[i] = w;
  }
  return terms;
}

export function denseDot(a: number[], b: number[]): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

export function unitLength(v: number[]): number[] {
  const norm = Math.sqrt(denseDot(v, v)) || 1;
  return v.map((x) => x / norm);
}

/** The running mean of `count` unit vectors plus one more, back to unit length. */
function meanEmbedding(mean: number[] | null, count: number, next: number[]): number[] {
  if (!mean || count === 0) return next;
  return unitLength(mean.map((m, i) => m * count + (next[i] ?? 0)));
}

// At most this many candidate stories get a full similarity computation per article.
const MAX_SCORED = 32;
const POSTINGS_PER_PROBE = 64;

type DocVector = { keys: string[]; weights: number[] };

/** A story while clustering: `id` is null until it is stored. */
export type LiveStory = {
  id: string | null;
  title: string;
  terms: SparseVector;
  firstSeen: Date;
  lastSeen: Date;
  domains: Set<string>;
  /** The stored revision this copy reflects (to notice changes made elsewhere). */
  revision: number;
  /** Mean of its articles' embeddings (unit length) and how many went into it. */
  embedding: number[] | null;
  embeddedCount: number;
  /** Articles added since the last `commit()`. */
  added: ClusterDoc[];
};

/**
 * Incremental single-pass clustering over a sliding window of stories: each article joins the
 * most similar story (cosine of tf-idf vectors, candidates found through an inverted index) or
 * starts a new one. It lives in memory across runs, so a run costs what its new articles cost,
 * not what the window holds; the stories service keeps it in step with the database.
 * IDF counts the window's stories plus the run's pending articles, as a batch clusterer would.
 */
export class StoryClusterer {
  private readonly live = new Set<LiveStory>();
  private readonly idf = new Idf();
  /** term -> stories holding it, oldest first; entries of dropped stories are skipped, then swept. */
  private readonly postings = new Map<string, LiveStory[]>();
  private readonly weighted = new Map<LiveStory, SparseVector>();
  private readonly docTerms = new Map<string, SparseVector>();
  /** Each story's terms as IDF last counted them. */
  private readonly counted = new Map<LiveStory, SparseVector>();
  private weighedAtSize = 0;
  /** Bumped when IDF has moved; a story weighed in an older epoch is re-weighed on use. */
  private epoch = 0;
  private readonly weighedIn = new Map<LiveStory, number>();
  private readonly termCounts = new Map<LiveStory, number>();

  constructor(
    window: LiveStory[] = [],
    pending: ClusterDoc[] = [],
    private readonly opts: ClusterOptions = DEFAULT_CLUSTER_OPTIONS,
  ) {
    for (const s of window) this.put(s);
    this.prepare(pending);
  }

  get stories(): LiveStory[] {
    return [...this.live];
  }

  /** Adds (or replaces with a fresher copy) a story of the window. */
  put(s: LiveStory): void {
    const counted = this.counted.get(s);
    if (counted) this.idf.remove(counted);
    this.live.add(s);
    this.idf.add(s.terms);
    this.counted.set(s, s.terms);
    this.index(s);
  }

  /** Drops a story that left the window or changed elsewhere. */
  drop(s: LiveStory): void {
    if (!this.live.delete(s)) return;
    const counted = this.counted.get(s);
    if (counted) this.idf.remove(counted);
    this.counted.delete(s);
    this.termCounts.delete(s);
    this.weighedIn.delete(s);
    this.weighted.delete(s);
  }

  /** Counts the run's articles into IDF before any is placed. */
  prepare(pending: ClusterDoc[]): void {
    for (const d of pending) {
      const v = articleTerms(d, this.opts);
      this.docTerms.set(d.id, v);
      this.idf.add(v);
    }
    // IDF moves as the window grows or shrinks; once it has moved enough, each story is
    // re-weighed the next time it is a candidate (not all at once).
    if (Math.abs(this.idf.size - this.weighedAtSize) > 0.2 * Math.max(this.weighedAtSize, 50)) {
      this.epoch++;
      this.weighedAtSize = this.idf.size;
    }
  }

  /** Ends a run: pending articles leave IDF, changed stories are counted with their new terms. */
  commit(): LiveStory[] {
    for (const v of this.docTerms.values()) this.idf.remove(v);
    this.docTerms.clear();
    const changed = [...this.live].filter((s) => s.added.length > 0);
    for (const s of changed) {
      const counted = this.counted.get(s);
      if (counted) this.idf.remove(counted);
      this.idf.add(s.terms);
      this.counted.set(s, s.terms);
    }
    return changed;
  }

  /** (Re)computes a story's weighted vector and its postings; terms it dropped leave the index. */
  private index(s: LiveStory): void {
    const before = this.weighted.get(s);
    const vec = this.idf.weigh(s.terms);
    this.weighted.set(s, vec);
    this.weighedIn.set(s, this.epoch);
    for (const t in vec) {
      if (before && t in before) continue;
      const list = this.postings.get(t);
      if (list) list.push(s);
      else this.postings.set(t, [s]);
    }
  }

  /**
   * Lexical: tf-idf cosine decayed by the time gap. With embeddings on both sides, the embedding
   * cosine decides instead, expressed on the lexical scale so one threshold rules both paths.
   */
  private similarity(
    doc: ClusterDoc,
    vec: DocVector,
    s: LiveStory,
    weighted: SparseVector,
    gap: number,
  ): number {
    if (doc.embedding && s.embedding) {
      const cos = denseDot(doc.embedding, s.embedding);
      const needed = this.opts.embeddingThreshold + (this.opts.embeddingGapPenalty * gap) / this.opts.decayMs;
      // At `needed` this equals the lexical threshold; above it, higher.
      return this.opts.threshold * (1 + (cos - needed) * 4);
    }
    let dotted = 0;
    for (let i = 0; i < vec.keys.length; i++) {
      const w = weighted[vec.keys[i]!];
      if (w !== undefined) dotted += vec.weights[i]! * w;
    }
    return dotted * Math.exp(-gap / this.opts.decayMs);
  }

  /** Places one article; returns its story and the similarity that decided it. */
  assign(doc: ClusterDoc): { story: LiveStory; score: number; joined: boolean } {
    const raw = this.docTerms.get(doc.id) ?? articleTerms(doc, this.opts);
    const weighedDoc = this.idf.weigh(raw);
    const probes = heaviest(weighedDoc, this.opts.probeTerms);
    // Keys listed once: scoring candidates then reads arrays instead of enumerating an object each time.
    const keys = Object.keys(weighedDoc);
    const vec: DocVector = { keys, weights: keys.map((k) => weighedDoc[k]!) };
    // Candidates share probe terms; the ones sharing the most are scored (a story about the same
    // event shares several distinctive terms, one shared rare word is usually chance).
    const hits = new Map<LiveStory, number>();
    // Each probe term names its most recent stories (time decay makes older ones unlikely
    // matches): the work per article is bounded whatever the window holds.
    for (const t of probes) {
      const list = this.postings.get(t);
      if (!list) continue;
      let taken = 0;
      let stale = 0;
      for (let i = list.length - 1; i >= 0 && taken < POSTINGS_PER_PROBE; i--) {
        const s = list[i]!;
        if (!this.live.has(s) || !(t in (this.weighted.get(s) ?? {}))) {
          stale++;
          continue;
        }
        taken++;
        hits.set(s, (hits.get(s) ?? 0) + 1);
      }
      if (stale > POSTINGS_PER_PROBE) {
        this.postings.set(
          t,
          list.filter((s) => this.live.has(s) && t in (this.weighted.get(s) ?? {})),
        );
      }
    }
    const lexical =
      hits.size <= MAX_SCORED
        ? [...hits.keys()]
        : [...hits]
            .sort((a, b) => b[1] - a[1])
            .slice(0, MAX_SCORED)
            .map(([s]) => s);
    // With an embedding, every embedded story of the window is a candidate: reports of one event
    // may share no words (other languages, other vocabularies). A scan, affordable at model speed.
    const candidates = doc.embedding
      ? new Set([...lexical, ...[...this.live].filter((s) => s.embedding)])
      : lexical;
    let best: LiveStory | null = null;
    let bestScore = 0;
    const t = doc.publishedAt.getTime();
    for (const s of candidates) {
      if (this.live.has(s) && (this.weighedIn.get(s) ?? -1) < this.epoch) this.index(s);
      const weighted = this.weighted.get(s);
      // Postings may still name a story that left the window.
      if (!weighted || !this.live.has(s)) continue;
      const gap = Math.max(0, t - s.lastSeen.getTime(), s.firstSeen.getTime() - t);
      if (gap > this.opts.windowMs) continue;
      const score = this.similarity(doc, vec, s, weighted, gap);
      if (score > bestScore) {
        bestScore = score;
        best = s;
      }
    }
    if (best && bestScore >= this.opts.threshold) {
      if (doc.embedding) best.embedding = meanEmbedding(best.embedding, best.embeddedCount++, doc.embedding);
      // IDF must later un-count what it counted: keep that copy before changing terms in place.
      if (this.counted.get(best) === best.terms) this.counted.set(best, { ...best.terms });
      let size = this.termCounts.get(best) ?? Object.keys(best.terms).length;
      for (const k in raw) {
        if (best.terms[k] === undefined) {
          best.terms[k] = raw[k]!;
          size++;
        } else best.terms[k] += raw[k]!;
      }
      // Trimmed in steps, not on every join: sorting a story's terms is the costly part.
      if (size > this.opts.storyTerms * 1.5) {
        best.terms = topTerms(best.terms, this.opts.storyTerms);
        size = this.opts.storyTerms;
      }
      this.termCounts.set(best, size);
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
      revision: 0,
      embedding: doc.embedding ?? null,
      embeddedCount: doc.embedding ? 1 : 0,
      added: [doc],
    };
    this.live.add(story);
    this.index(story);
    return { story, score: bestScore, joined: false };
  }
}
