import { entities, terms } from "../../lib/text.ts";
import { type SparseVector, termFrequencies } from "../../lib/vectors.ts";

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
// Whitespace-separated tokens whose terms are remembered; the memo is emptied beyond this.
const TOKEN_MEMO = 200_000;

/** A story while clustering: `id` is null until it is stored. */
export type LiveStory = {
  id: string | null;
  title: string;
  /** Raw term counts; brought up to date by `commit()` (and set when a story is created). */
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

/** Raw term counts by term id, in first-seen order. */
type RawTerms = Map<number, number>;
/** A tf-idf vector over term ids: parallel arrays, L2-normalized. */
type WeighedTerms = { ids: Int32Array; weights: Float64Array };

/** The clusterer's working copy of a story, over term ids. */
type StoryState = {
  story: LiveStory;
  /** False once dropped: postings still naming it are stale. */
  live: boolean;
  raw: RawTerms;
  /** Bumped whenever terms may have left `raw` (trimmed, replaced): older postings get checked. */
  trims: number;
  /** Probe hits of the article being placed, valid while `round` matches the clusterer's. */
  round: number;
  hits: number;
  /** The term ids IDF counted for this story (to un-count exactly those). */
  counted: number[] | null;
  vec: WeighedTerms;
  /** The IDF epoch `vec` was weighed in. */
  epoch: number;
};

/**
 * Terms as small integers, with document frequencies and the smoothed IDF they imply. Weights are
 * memoized until the counts next change: during a run's placements IDF is fixed, so each term's
 * logarithm is taken once per run, not once per story it appears in.
 */
class TermIdf {
  private readonly idOf = new Map<string, number>();
  private names: string[] = [];
  private df: number[] = [];
  private free: number[] = [];
  private emptied: number[] = [];
  private memo: number[] = [];
  private memoAt: number[] = [];
  private version = 0;
  n = 0;

  id(term: string): number {
    let id = this.idOf.get(term);
    if (id === undefined) {
      id = this.free.pop() ?? this.names.length;
      this.idOf.set(term, id);
      this.names[id] = term;
      this.df[id] = 0;
      this.memoAt[id] = -1;
    }
    return id;
  }
  name(id: number): string {
    return this.names[id]!;
  }
  get capacity(): number {
    return this.names.length;
  }
  add(ids: Iterable<number>): void {
    this.n++;
    this.version++;
    for (const id of ids) this.df[id]!++;
  }
  remove(ids: Iterable<number>): void {
    this.n--;
    this.version++;
    for (const id of ids) if (--this.df[id]! <= 0) this.emptied.push(id);
  }
  weight(id: number): number {
    if (this.memoAt[id] === this.version) return this.memo[id]!;
    const w = Math.log((this.n + 1) / (this.df[id]! + 1)) + 1;
    this.memo[id] = w;
    this.memoAt[id] = this.version;
    return w;
  }
  /** Sublinear tf × idf, L2-normalized. */
  weigh(raw: RawTerms): WeighedTerms {
    const ids = new Int32Array(raw.size);
    const weights = new Float64Array(raw.size);
    let sq = 0;
    let i = 0;
    for (const [id, tf] of raw) {
      const w = (1 + Math.log(tf)) * this.weight(id);
      ids[i] = id;
      weights[i++] = w;
      sq += w * w;
    }
    const norm = Math.sqrt(sq) || 1;
    for (let j = 0; j < weights.length; j++) weights[j]! /= norm;
    return { ids, weights };
  }
  /** Ids no vector counts any more are forgotten (and reused): memory follows the window. */
  release(onRelease: (id: number) => void): void {
    for (const id of this.emptied) {
      if (this.df[id] !== 0 || this.names[id] === undefined) continue;
      this.idOf.delete(this.names[id]!);
      this.names[id] = undefined as unknown as string;
      this.free.push(id);
      onRelease(id);
    }
    this.emptied = [];
  }
}

/** The `k` heaviest terms of a vector (a partial selection: no full sort); earlier wins ties. */
function heaviest(v: WeighedTerms, k: number): number[] {
  const ids: number[] = [];
  const weights: number[] = [];
  for (let j = 0; j < v.ids.length; j++) {
    const w = v.weights[j]!;
    if (ids.length === k && w <= weights[k - 1]!) continue;
    let i = ids.length === k ? k - 1 : ids.length;
    while (i > 0 && weights[i - 1]! < w) {
      ids[i] = ids[i - 1]!;
      weights[i] = weights[i - 1]!;
      i--;
    }
    ids[i] = v.ids[j]!;
    weights[i] = w;
  }
  return ids;
}

/** The `n` heaviest raw terms (a stable sort: earlier wins ties). */
function topRaw(raw: RawTerms, n: number): RawTerms {
  return new Map([...raw].sort((x, y) => y[1] - x[1]).slice(0, n));
}

/**
 * Incremental single-pass clustering over a sliding window of stories: each article joins the
 * most similar story (cosine of tf-idf vectors, candidates found through an inverted index) or
 * starts a new one. It lives in memory across runs, so a run costs what its new articles cost,
 * not what the window holds; the stories service keeps it in step with the database.
 * IDF counts the window's stories plus the run's pending articles, as a batch clusterer would.
 * Terms are integer ids and vectors typed arrays: scoring a candidate reads arrays, not
 * string-keyed objects.
 */
export class StoryClusterer {
  private readonly live = new Set<LiveStory>();
  private readonly idf = new TermIdf();
  private readonly state = new Map<LiveStory, StoryState>();
  /**
   * term id -> stories holding it, oldest first, each with the story's `trims` when posted (an
   * entry posted since the last trim is current without a lookup); entries of dropped stories
   * and dropped terms are skipped, then swept.
   */
  private postings: ({ states: StoryState[]; trims: number[] } | undefined)[] = [];
  private round = 0;
  private readonly docTerms = new Map<string, RawTerms>();
  /** Stories that gained articles since the last commit. */
  private readonly touched = new Set<LiveStory>();
  /** A whitespace token's terms (the tokenizer's matches never span whitespace). */
  private readonly tokenTerms = new Map<string, string[]>();
  /** The article being scored, spread over term ids (zero elsewhere). */
  private scratch = new Float64Array(1024);
  private weighedAtSize = 0;
  /** Bumped when IDF has moved; a story weighed in an older epoch is re-weighed on use. */
  private epoch = 0;

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
    const before = this.state.get(s);
    if (before?.counted) this.idf.remove(before.counted);
    this.live.add(s);
    const raw: RawTerms = new Map();
    for (const k in s.terms) raw.set(this.idf.id(k), s.terms[k]!);
    const counted = [...raw.keys()];
    this.idf.add(counted);
    const vec = this.idf.weigh(raw);
    // A fresher copy of a story held keeps its state (and the postings naming it).
    const st: StoryState = before ?? {
      story: s,
      live: true,
      raw,
      trims: 0,
      round: -1,
      hits: 0,
      counted,
      vec,
      epoch: this.epoch,
    };
    const had = before?.raw;
    Object.assign(st, { raw, counted, vec, epoch: this.epoch, trims: st.trims + 1 });
    this.state.set(s, st);
    for (const id of counted) if (!had?.has(id)) this.post(id, st);
  }

  /** Drops a story that left the window or changed elsewhere. */
  drop(s: LiveStory): void {
    if (!this.live.delete(s)) return;
    const st = this.state.get(s);
    if (st?.counted) this.idf.remove(st.counted);
    if (st) st.live = false;
    this.state.delete(s);
    this.touched.delete(s);
  }

  /** Counts the run's articles into IDF before any is placed. */
  prepare(pending: ClusterDoc[]): void {
    for (const d of pending) {
      const raw = this.termsOf(d);
      this.docTerms.set(d.id, raw);
      this.idf.add(raw.keys());
    }
    // IDF moves as the window grows or shrinks; once it has moved enough, each story is
    // re-weighed the next time it is a candidate (not all at once).
    if (Math.abs(this.idf.n - this.weighedAtSize) > 0.2 * Math.max(this.weighedAtSize, 50)) {
      this.epoch++;
      this.weighedAtSize = this.idf.n;
    }
  }

  /** Ends a run: pending articles leave IDF, changed stories are counted with their new terms. */
  commit(): LiveStory[] {
    for (const v of this.docTerms.values()) this.idf.remove(v.keys());
    this.docTerms.clear();
    const changed = [...this.touched];
    this.touched.clear();
    for (const s of changed) {
      const st = this.state.get(s)!;
      if (st.counted) this.idf.remove(st.counted);
      st.counted = [...st.raw.keys()];
      this.idf.add(st.counted);
      s.terms = this.namedTerms(st.raw);
    }
    this.idf.release((id) => {
      this.postings[id] = undefined;
    });
    if (this.tokenTerms.size > TOKEN_MEMO) this.tokenTerms.clear();
    return changed;
  }

  /** Raw term counts of an article by term id: the same terms and counts as `articleTerms`. */
  private termsOf(doc: Pick<ClusterDoc, "title" | "content">): RawTerms {
    const v: RawTerms = new Map();
    const tokens = doc.content.split(/\s+/).slice(0, this.opts.leadWords);
    for (const token of tokens) {
      let ts = this.tokenTerms.get(token);
      if (!ts) {
        ts = terms(token);
        this.tokenTerms.set(token, ts);
      }
      for (const t of ts) {
        const id = this.idf.id(t);
        v.set(id, (v.get(id) ?? 0) + 1);
      }
    }
    for (const t of terms(doc.title)) {
      const id = this.idf.id(t);
      v.set(id, (v.get(id) ?? 0) + this.opts.titleWeight);
    }
    for (const e of entities(`${doc.title}. ${tokens.join(" ")}`)) {
      if (e.includes(" ") || e.length > 3) {
        const id = this.idf.id(`e:${e}`);
        v.set(id, (v.get(id) ?? 0) + this.opts.entityWeight);
      }
    }
    return v;
  }

  private namedTerms(raw: RawTerms): SparseVector {
    const out: SparseVector = {};
    for (const [id, tf] of raw) out[this.idf.name(id)] = tf;
    return out;
  }

  private post(id: number, st: StoryState): void {
    const list = this.postings[id];
    if (list) {
      list.states.push(st);
      list.trims.push(st.trims);
    } else this.postings[id] = { states: [st], trims: [st.trims] };
  }

  /** Re-weighs a story under the current IDF; `added` are term ids it gained (new postings). */
  private reweigh(st: StoryState, added: number[] = []): void {
    st.vec = this.idf.weigh(st.raw);
    st.epoch = this.epoch;
    for (const id of added) if (st.raw.has(id)) this.post(id, st);
  }

  /**
   * Lexical: tf-idf cosine (the article's weights are in `scratch`) decayed by the time gap.
   * With embeddings on both sides, the embedding cosine decides instead, expressed on the
   * lexical scale so one threshold rules both paths.
   */
  private similarity(doc: ClusterDoc, s: LiveStory, vec: WeighedTerms, gap: number): number {
    if (doc.embedding && s.embedding) {
      const cos = denseDot(doc.embedding, s.embedding);
      const needed = this.opts.embeddingThreshold + (this.opts.embeddingGapPenalty * gap) / this.opts.decayMs;
      // At `needed` this equals the lexical threshold; above it, higher.
      return this.opts.threshold * (1 + (cos - needed) * 4);
    }
    const scratch = this.scratch;
    let dotted = 0;
    for (let i = 0; i < vec.ids.length; i++) dotted += scratch[vec.ids[i]!]! * vec.weights[i]!;
    return dotted * Math.exp(-gap / this.opts.decayMs);
  }

  /** Places one article; returns its story and the similarity that decided it. */
  assign(doc: ClusterDoc): { story: LiveStory; score: number; joined: boolean } {
    const raw = this.docTerms.get(doc.id) ?? this.termsOf(doc);
    const weighedDoc = this.idf.weigh(raw);
    const probes = heaviest(weighedDoc, this.opts.probeTerms);
    // Candidates share probe terms; the ones sharing the most are scored (a story about the same
    // event shares several distinctive terms, one shared rare word is usually chance).
    const round = ++this.round;
    const hit: StoryState[] = [];
    // Each probe term names its most recent stories (time decay makes older ones unlikely
    // matches): the work per article is bounded whatever the window holds.
    for (const t of probes) {
      const list = this.postings[t];
      if (!list) continue;
      let taken = 0;
      let stale = 0;
      for (let i = list.states.length - 1; i >= 0 && taken < POSTINGS_PER_PROBE; i--) {
        const st = list.states[i]!;
        // Posted since the story's last trim: it still holds the term (a story's weighed terms are its raw terms).
        if (!st.live || (list.trims[i] !== st.trims && !st.raw.has(t))) {
          stale++;
          continue;
        }
        taken++;
        if (st.round !== round) {
          st.round = round;
          st.hits = 0;
          hit.push(st);
        }
        st.hits++;
      }
      if (stale > POSTINGS_PER_PROBE) {
        const kept: { states: StoryState[]; trims: number[] } = { states: [], trims: [] };
        for (const [i, st] of list.states.entries()) {
          if (st.live && st.raw.has(t)) {
            kept.states.push(st);
            kept.trims.push(list.trims[i]!);
          }
        }
        this.postings[t] = kept;
      }
    }
    const lexical = hit.length <= MAX_SCORED ? hit : hit.sort((a, b) => b.hits - a.hits).slice(0, MAX_SCORED);
    // With an embedding, every embedded story of the window is a candidate: reports of one event
    // may share no words (other languages, other vocabularies). A scan, affordable at model speed.
    const candidates = doc.embedding
      ? new Set([...lexical, ...[...this.state.values()].filter((st) => st.story.embedding)])
      : lexical;
    if (this.scratch.length < this.idf.capacity) {
      this.scratch = new Float64Array(Math.max(this.idf.capacity, this.scratch.length * 2));
    }
    const scratch = this.scratch;
    for (let i = 0; i < weighedDoc.ids.length; i++) scratch[weighedDoc.ids[i]!] = weighedDoc.weights[i]!;
    let best: LiveStory | null = null;
    let bestScore = 0;
    const t = doc.publishedAt.getTime();
    for (const st of candidates) {
      // Postings may still name a story that left the window.
      if (!st.live) continue;
      const s = st.story;
      if (st.epoch < this.epoch) this.reweigh(st);
      const gap = Math.max(0, t - s.lastSeen.getTime(), s.firstSeen.getTime() - t);
      if (gap > this.opts.windowMs) continue;
      const score = this.similarity(doc, s, st.vec, gap);
      if (score > bestScore) {
        bestScore = score;
        best = s;
      }
    }
    for (let i = 0; i < weighedDoc.ids.length; i++) scratch[weighedDoc.ids[i]!] = 0;
    if (best && bestScore >= this.opts.threshold) {
      const st = this.state.get(best)!;
      if (doc.embedding) best.embedding = meanEmbedding(best.embedding, best.embeddedCount++, doc.embedding);
      const gained: number[] = [];
      for (const [id, tf] of raw) {
        const had = st.raw.get(id);
        if (had === undefined) {
          st.raw.set(id, tf);
          gained.push(id);
        } else st.raw.set(id, had + tf);
      }
      // Trimmed in steps, not on every join: sorting a story's terms is the costly part.
      if (st.raw.size > this.opts.storyTerms * 1.5) {
        st.raw = topRaw(st.raw, this.opts.storyTerms);
        st.trims++;
      }
      if (doc.publishedAt > best.lastSeen) best.lastSeen = doc.publishedAt;
      if (doc.publishedAt < best.firstSeen) best.firstSeen = doc.publishedAt;
      best.added.push(doc);
      best.domains.add(doc.domain);
      this.touched.add(best);
      this.reweigh(st, gained);
      return { story: best, score: bestScore, joined: true };
    }
    const storyRaw = topRaw(raw, this.opts.storyTerms);
    const story: LiveStory = {
      id: null,
      title: doc.title,
      terms: this.namedTerms(storyRaw),
      firstSeen: doc.publishedAt,
      lastSeen: doc.publishedAt,
      domains: new Set([doc.domain]),
      revision: 0,
      embedding: doc.embedding ?? null,
      embeddedCount: doc.embedding ? 1 : 0,
      added: [doc],
    };
    this.live.add(story);
    this.touched.add(story);
    const st: StoryState = {
      story,
      live: true,
      raw: storyRaw,
      trims: 0,
      round: -1,
      hits: 0,
      counted: null,
      vec: this.idf.weigh(storyRaw),
      epoch: this.epoch,
    };
    this.state.set(story, st);
    for (const id of storyRaw.keys()) this.post(id, st);
    return { story, score: bestScore, joined: false };
  }
}
