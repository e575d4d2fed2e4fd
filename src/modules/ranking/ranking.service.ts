import { terms } from "../../lib/text.ts";
import {
  buildProfileVector,
  interestConcept,
  type ProfileConcept,
  type ProfileInput,
  type ProfileVector,
  taxonomyConcepts,
} from "./profile-vector.ts";

/** A story prepared once per run and scored against every subscriber. */
export type RankCandidate = {
  storyId: string;
  headline: string;
  /** Stemmed unigram and bigram counts of the story's text. */
  tf: Map<string, number>;
  /** Unit tf-idf vector over unigrams, for diversity. */
  vec: Map<string, number>;
  outletCount: number;
  domains: string[];
  lastSeenAt: Date;
  /** Story revision a subscriber would see now. */
  revision: number;
  /** The story's mean embedding, when a model is configured. */
  embedding: number[] | null;
};

export type StoryText = {
  storyId: string;
  headline: string;
  texts: string[];
  outletCount: number;
  domains: string[];
  lastSeenAt: Date;
  revision: number;
  embedding?: number[] | null;
};

/** Turns story texts into candidates; document frequencies are shared by the whole set. */
export function prepareCandidates(stories: StoryText[]): {
  candidates: RankCandidate[];
  idf: (t: string) => number;
} {
  const df = new Map<string, number>();
  const tfs = stories.map((s) => {
    const tf = new Map<string, number>();
    const bump = (k: string, by: number) => tf.set(k, (tf.get(k) ?? 0) + by);
    // The headline is what the story is about; it counts twice.
    for (const text of [s.headline, s.headline, ...s.texts]) {
      const words = terms(text);
      for (let j = 0; j < words.length; j++) {
        bump(words[j]!, 1);
        if (j + 1 < words.length) bump(`${words[j]} ${words[j + 1]}`, 1);
        // Word triples too: followed names and muted topics of three words match only as written
        // ("ECB rate cuts" must not mute "ECB rate decision ... Fed rate cuts").
        if (j + 2 < words.length) bump(`${words[j]} ${words[j + 1]} ${words[j + 2]}`, 1);
      }
    }
    for (const k of tf.keys()) df.set(k, (df.get(k) ?? 0) + 1);
    return tf;
  });
  const n = stories.length;
  const idf = (t: string) => Math.log(1 + (n + 1) / ((df.get(t) ?? 0) + 0.5));
  const candidates = stories.map((s, i) => {
    const tf = tfs[i]!;
    const vec = new Map<string, number>();
    let sq = 0;
    for (const [k, c] of tf) {
      if (k.includes(" ")) continue;
      const w = (1 + Math.log(c)) * idf(k);
      vec.set(k, w);
      sq += w * w;
    }
    const norm = Math.sqrt(sq) || 1;
    for (const [k, w] of vec) vec.set(k, w / norm);
    return {
      storyId: s.storyId,
      headline: s.headline,
      tf,
      vec,
      outletCount: s.outletCount,
      domains: s.domains,
      lastSeenAt: s.lastSeenAt,
      revision: s.revision,
      embedding: s.embedding ?? null,
    };
  });
  return { candidates, idf };
}

export type Ranked = {
  storyId: string;
  score: number;
  relevance: number;
  /** The features behind the score, kept with the briefing item for audit. */
  features: Record<string, number>;
  /** "Why you're seeing this", from those same features. */
  reason: string;
  /** Labels of the concepts that matched, strongest first. */
  matched: { label: string; term: string; kind: ProfileConcept["kind"] }[];
};

export type RankOptions = {
  now: Date;
  limit: number;
  alsoToday?: number;
  mutedSources?: string[];
  /** storyId -> revision already shown to this subscriber. */
  alreadyShown?: Map<string, number>;
  /** The profile's embedding: with story embeddings, semantic similarity joins the relevance. */
  profileEmbedding?: number[] | null;
};

const W_RELEVANCE = 0.7;
const W_IMPORTANCE = 0.2;
const W_FRESHNESS = 0.1;
const MMR_LAMBDA = 0.8;
const CONCEPT_SATURATION = 16;
const FOLLOWED_SATURATES_FASTER = 4;
// Each further concept a story matches adds this fraction of the one before it (strongest first):
// a story squarely about one of the reader's concepts beats one that brushes several. Summing
// them plainly put every pandemic story (public health + hospitals + staffing + ...) above the
// court ruling on the hospital CFO's reimbursement. Eval plateau 0.5-0.8 (nDCG@5 0.83-0.84).
const CONCEPT_FALLOFF = 0.7;
// A concept that a large share of today's stories match tells the reader's stories apart less
// (concept-level idf): its matches count 1 - 2 x that share, at least a fifth. A small prior keeps
// a handful of candidates from looking like "everything matches".
const COMMON_CONCEPT_PENALTY = 2;
const COMMON_CONCEPT_FLOOR = 0.2;
const COMMON_CONCEPT_PRIOR = 20;
const MATCHES_CONCEPT = 0.3;

/**
 * How often a stemmed term or phrase occurs in a story. Stories index words, pairs and triples; a
 * longer phrase counts as often as its rarest triple, none of them missing.
 */
export function phraseCount(tf: Map<string, number>, phrase: string): number {
  const direct = tf.get(phrase);
  if (direct !== undefined) return direct;
  const words = phrase.split(" ");
  if (words.length < 4) return 0;
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i + 2 < words.length; i++) {
    const n = tf.get(`${words[i]} ${words[i + 1]} ${words[i + 2]}`);
    if (!n) return 0;
    least = Math.min(least, n);
  }
  return least;
}

/** A phrase's idf: of the phrase itself when indexed, else of its rarest triple. */
function phraseIdf(idf: (t: string) => number, phrase: string): number {
  const words = phrase.split(" ");
  if (words.length < 4) return idf(phrase);
  let most = 0;
  for (let i = 0; i + 2 < words.length; i++)
    most = Math.max(most, idf(`${words[i]} ${words[i + 1]} ${words[i + 2]}`));
  return most;
}

function conceptMatch(c: ProfileConcept, cand: RankCandidate, idf: (t: string) => number) {
  let sum = 0;
  let bestTerm = "";
  let bestTermScore = 0;
  for (const t of c.terms) {
    const tf = phraseCount(cand.tf, t.stem);
    if (!tf) continue;
    // Phrases are rarer and more telling than single words.
    const s =
      (1 + Math.log(tf)) * phraseIdf(idf, t.stem) * (t.stem.includes(" ") ? 1.5 : 1) * (t.weight ?? 1);
    sum += s;
    if (s > bestTermScore) {
      bestTermScore = s;
      bestTerm = t.text;
    }
  }
  // Saturates slowly: a story squarely about a concept (many telling hits) must clearly beat one
  // that brushes it with a single generic word (measured on the corpus: /4 made both ~0.85).
  // What a reader follows by name (a company, person, country, technology or topic of their own
  // choosing): a story naming it a few times is about it, and must not trail one that matches the
  // role's broad concepts (a probe saw a followed club in a headline rank below a bond story
  // matched only through "Analyst in finance").
  const saturation =
    c.kind === "followed" ? CONCEPT_SATURATION / FOLLOWED_SATURATES_FASTER : CONCEPT_SATURATION;
  return { value: 1 - Math.exp(-sum / saturation), term: bestTerm };
}

/** Working memory for combineConcepts, kept by a ranking run between subscribers. */
type CombineScratch = { slots: Float64Array; counts: Int32Array };

/**
 * Each story's relevance from the profile's concept matches: the strongest counts whole, each next
 * one CONCEPT_FALLOFF of the one before. Only the stories a concept matches are visited (each
 * concept's list is made once per run): a profile's concepts touch few of the day's stories, and
 * visiting every (concept, story) pair was the largest part of ranking a subscriber. Each touched
 * story keeps its contributions sorted, by insertion, in its own k slots of the scratch memory.
 */
function combineConcepts(
  concepts: { c: ProfileConcept; s: ConceptScores }[],
  n: number,
  scratch: CombineScratch,
): Float64Array {
  const weighted = new Float64Array(n);
  const active = concepts.filter(({ c }) => c.weight > 0);
  const k = active.length;
  if (scratch.slots.length < n * k) scratch.slots = new Float64Array(n * k);
  if (scratch.counts.length < n) scratch.counts = new Int32Array(n);
  const { slots, counts } = scratch;
  const touched: number[] = [];
  for (const { c, s } of active) {
    const w = c.weight;
    for (const i of s.matching) {
      const v = w * s.values[i]!;
      const m = counts[i]!;
      if (m === 0) touched.push(i);
      const base = i * k;
      let at = base + m;
      while (at > base && slots[at - 1]! < v) {
        slots[at] = slots[at - 1]!;
        at--;
      }
      slots[at] = v;
      counts[i] = m + 1;
    }
  }
  for (const i of touched) {
    let sum = 0;
    let g = 1;
    for (let at = i * k, end = at + counts[i]!; at < end; at++) {
      sum += g * slots[at]!;
      g *= CONCEPT_FALLOFF;
    }
    weighted[i] = sum;
    counts[i] = 0;
  }
  return weighted;
}

function similarity(a: RankCandidate, b: RankCandidate): number {
  const [small, large] = a.vec.size < b.vec.size ? [a.vec, b.vec] : [b.vec, a.vec];
  let s = 0;
  for (const [k, w] of small) {
    const v = large.get(k);
    if (v !== undefined) s += w * v;
  }
  return s;
}

/**
 * The forms a muted source may be written in, as readers write them: a domain in any case, with or
 * without www., a scheme or a path ("https://www.Example.com/news"), or the outlet's name
 * ("Harbor Ledger" for harborledger.example). A domain matches on itself or its name part.
 */
export function mutedSourceKeys(entries: string[]): Set<string> {
  const keys = new Set<string>();
  for (const entry of entries) {
    const text = entry.trim().toLowerCase();
    const host = text
      .replace(/^[a-z][a-z0-9+.-]*:\/\//, "")
      .replace(/[/?#:].*$/, "")
      .replace(/^www\./, "");
    if (host.includes(".")) keys.add(host);
    const name = text.replace(/[^\p{L}\p{N}]+/gu, "");
    if (name && !host.includes(".")) keys.add(name);
  }
  return keys;
}

/**
 * A story's domain against muted source keys: the domain or one it is under (news.bbc.co.uk under
 * bbc.co.uk), or a name that is its site's own label ("bbc" for news.bbc.co.uk, "harborledger"),
 * never "news", "com" or "co" of other sites.
 */
export function domainMuted(domain: string, keys: Set<string>): boolean {
  if (keys.has(domain)) return true;
  const labels = domain.split(".");
  for (let i = 1; i < labels.length - 1; i++) if (keys.has(labels.slice(i).join("."))) return true;
  return keys.has(siteLabel(labels).replace(/[^\p{L}\p{N}]+/gu, ""));
}

// Second levels under which country domains register sites: bbc.co.uk, abc.net.au.
const SECOND_LEVELS = new Set(["co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go"]);
/** The label that names the site: before the top level, or before a country's second level. */
function siteLabel(labels: string[]): string {
  const n = labels.length;
  if (n >= 3 && SECOND_LEVELS.has(labels[n - 2]!) && labels[n - 1]!.length === 2) return labels[n - 3]!;
  return labels[Math.max(0, n - 2)]!;
}

function isMuted(mutedTopics: string[], cand: RankCandidate, mutedSources: Set<string>): boolean {
  for (const phrase of mutedTopics) {
    if (phraseCount(cand.tf, phrase) > 0) return true;
  }
  return mutedSources.size > 0 && cand.domains.every((d) => domainMuted(d, mutedSources));
}

/** A concept's match with every candidate, the best matching term of each, and which match at all. */
type ConceptScores = { values: Float64Array; terms: string[]; matching: Int32Array };

/** A concept's identity by content (kind, label, weighted terms), computed once and kept on it. */
function conceptKey(c: ProfileConcept): string {
  c.key ??= `${c.kind}\u0000${c.label}\u0000${c.terms.map((t) => `${t.stem}*${t.weight ?? 1}`).join("|")}`;
  return c.key;
}

/**
 * One ranking run: a day's candidates prepared once, then any number of subscribers ranked
 * against them. What subscribers share is computed once and kept for the run: each concept's
 * match against every story (segments share their taxonomy concepts, many readers share
 * interests), taxonomy expansions per role and industry, and story-to-story similarity.
 */
export class RankingRun {
  private readonly conceptScores = new Map<string, ConceptScores>();
  private readonly segments = new Map<string, ProfileConcept[]>();
  private readonly interests = new Map<string, ProfileConcept | null>();
  private readonly similarities: Float32Array;
  private readonly combineScratch: CombineScratch = { slots: new Float64Array(0), counts: new Int32Array(0) };
  /** Each candidate's headline as compared for duplicates: letters and digits, lower case. */
  private readonly headlineKeys: string[];

  constructor(
    readonly candidates: RankCandidate[],
    private readonly idf: (t: string) => number,
  ) {
    this.similarities = new Float32Array(candidates.length * candidates.length).fill(Number.NaN);
    this.headlineKeys = candidates.map((c) =>
      c.headline
        .toLowerCase()
        .replace(/[^\p{L}\p{N}]+/gu, " ")
        .trim(),
    );
  }

  /** A subscriber's profile vector, with the segment and interest parts shared across the run. */
  profile(p: ProfileInput): ProfileVector {
    return buildProfileVector(
      p,
      (role, industry) => {
        const key = `${role.toLowerCase()}\u0000${industry.toLowerCase()}`;
        let concepts = this.segments.get(key);
        if (!concepts) {
          concepts = taxonomyConcepts(role, industry);
          for (const c of concepts) conceptKey(c);
          this.segments.set(key, concepts);
        }
        return concepts;
      },
      (interest) => {
        if (!this.interests.has(interest)) {
          const c = interestConcept(interest);
          if (c) conceptKey(c);
          this.interests.set(interest, c);
        }
        return this.interests.get(interest) ?? null;
      },
    );
  }

  private scores(c: ProfileConcept): ConceptScores {
    const key = conceptKey(c);
    let cached = this.conceptScores.get(key);
    if (!cached) {
      const values = new Float64Array(this.candidates.length);
      const terms: string[] = [];
      this.candidates.forEach((cand, i) => {
        const m = conceptMatch(c, cand, this.idf);
        values[i] = m.value;
        terms[i] = m.term;
      });
      // How much of today this concept is about: its matches are discounted by that share.
      let strong = 0;
      for (let i = 0; i < values.length; i++) if (values[i]! > MATCHES_CONCEPT) strong++;
      const share = strong / (values.length + COMMON_CONCEPT_PRIOR);
      const factor = Math.max(COMMON_CONCEPT_FLOOR, 1 - COMMON_CONCEPT_PENALTY * share);
      const matching: number[] = [];
      for (let i = 0; i < values.length; i++) {
        values[i] = values[i]! * factor;
        if (values[i]! > 0) matching.push(i);
      }
      cached = { values, terms, matching: Int32Array.from(matching) };
      this.conceptScores.set(key, cached);
    }
    return cached;
  }

  private standingAt = Number.NaN;
  private standings = { importance: new Float64Array(0), freshness: new Float64Array(0) };

  /** Importance (outlets) and freshness of every candidate: the same for every reader at one instant. */
  private standingArrays(now: Date): { importance: Float64Array; freshness: Float64Array } {
    if (this.standingAt !== now.getTime()) {
      this.standingAt = now.getTime();
      const n = this.candidates.length;
      const importance = new Float64Array(n);
      const freshness = new Float64Array(n);
      this.candidates.forEach((cand, i) => {
        importance[i] = Math.min(1, Math.log2(1 + cand.outletCount) / Math.log2(6));
        freshness[i] = Math.exp(-Math.max(0, (now.getTime() - cand.lastSeenAt.getTime()) / 3600_000) / 24);
      });
      this.standings = { importance, freshness };
    }
    return this.standings;
  }

  private similarity(i: number, j: number): number {
    const n = this.candidates.length;
    let v = this.similarities[i * n + j]!;
    if (Number.isNaN(v)) {
      v = similarity(this.candidates[i]!, this.candidates[j]!);
      this.similarities[i * n + j] = v;
      this.similarities[j * n + i] = v;
    }
    return v;
  }

  /**
   * Scores every candidate for one profile and picks the briefing: relevance to the profile's
   * concepts, importance (outlets), freshness; muted topics and sources out; stories already
   * shown only when they changed since; then maximal marginal relevance for a diverse top.
   */
  rank(profile: ProfileVector, opts: RankOptions): { picked: Ranked[]; alsoToday: Ranked[] } {
    const n = this.candidates.length;
    const concepts = profile.concepts.map((c) => ({ c, s: this.scores(c) }));
    const weighted = combineConcepts(concepts, n, this.combineScratch);
    // Relevance is relative to today's best match for this reader, so that it, not outlet counts
    // or minutes of freshness, orders the stories that matter to them.
    let best = 0;
    for (let i = 0; i < n; i++) best = Math.max(best, weighted[i]!);
    type Scored = {
      i: number;
      score: number;
      relevance: number;
      semantic: number | null;
      importance: number;
      freshness: number;
      shown: boolean;
    };
    const standing = this.standingArrays(opts.now);
    const muted = mutedSourceKeys(opts.mutedSources ?? []);
    const mutedTopics = profile.muted.map((words) => words.join(" "));
    const checkMuted = mutedTopics.length > 0 || muted.size > 0;
    // Every candidate's score in a typed array; only the best few become objects (allocating
    // and sorting one object per candidate was most of a subscriber's cost).
    const poolSize = Math.max(opts.limit * 6, 30);
    const top: number[] = [];
    const scoreOf = new Float64Array(n);
    const semanticOf = opts.profileEmbedding ? new Float64Array(n).fill(Number.NaN) : null;
    for (let i = 0; i < n; i++) {
      const cand = this.candidates[i]!;
      if (checkMuted && isMuted(mutedTopics, cand, muted)) continue;
      const shownRevision = opts.alreadyShown?.get(cand.storyId);
      if (shownRevision !== undefined && cand.revision <= shownRevision) continue;
      const lexical = best > 0 ? weighted[i]! / best : 0;
      let relevance = lexical;
      if (semanticOf && cand.embedding) {
        const semantic = semanticRelevance(opts.profileEmbedding!, cand.embedding);
        semanticOf[i] = semantic;
        relevance = (lexical + semantic) / 2;
      }
      const score =
        (W_RELEVANCE * relevance +
          W_IMPORTANCE * standing.importance[i]! +
          W_FRESHNESS * standing.freshness[i]!) *
        (shownRevision !== undefined ? 0.5 : 1);
      scoreOf[i] = score;
      // Insert into the descending top list; ties keep candidate order, as a stable sort did.
      if (top.length === poolSize && score <= scoreOf[top[poolSize - 1]!]!) continue;
      let k = top.length;
      while (k > 0 && scoreOf[top[k - 1]!]! < score) k--;
      top.splice(k, 0, i);
      if (top.length > poolSize) top.pop();
    }
    const scored: Scored[] = top.map((i) => {
      const cand = this.candidates[i]!;
      const shown = opts.alreadyShown?.get(cand.storyId) !== undefined;
      const lexical = best > 0 ? weighted[i]! / best : 0;
      const semantic = semanticOf && !Number.isNaN(semanticOf[i]!) ? semanticOf[i]! : null;
      return {
        i,
        score: scoreOf[i]!,
        relevance: semantic === null ? lexical : (lexical + semantic) / 2,
        semantic,
        importance: standing.importance[i]!,
        freshness: standing.freshness[i]!,
        shown,
      };
    });

    // Diversity: each next pick trades score against similarity to what is already picked. Each
    // pool entry keeps its similarity to the closest pick so far, brought up to date against the
    // newest pick only (the same choices as comparing with every pick, a fraction of the lookups).
    const pool = scored.slice();
    const redundancy = new Float64Array(pool.length);
    const picked: Scored[] = [];
    while (picked.length < opts.limit && pool.length > 0) {
      const last = picked[picked.length - 1];
      let bestIdx = 0;
      let bestValue = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < pool.length; k++) {
        const c = pool[k]!;
        if (last) redundancy[k] = Math.max(redundancy[k]!, this.similarity(c.i, last.i));
        const value = MMR_LAMBDA * c.score - (1 - MMR_LAMBDA) * redundancy[k]!;
        if (value > bestValue) {
          bestValue = value;
          bestIdx = k;
        }
      }
      const chosen = pool.splice(bestIdx, 1)[0]!;
      redundancy.copyWithin(bestIdx, bestIdx + 1);
      picked.push(chosen);
      // Another story under the same headline (one outlet's recurring "Breaking news", or copies
      // the clustering kept apart) reads as the same story twice: never two in one briefing.
      const headline = this.headlineKeys[chosen.i]!;
      for (let k = pool.length - 1; k >= 0; k--) {
        if (this.headlineKeys[pool[k]!.i] === headline) {
          pool.splice(k, 1);
          redundancy.copyWithin(k, k + 1);
        }
      }
    }
    // Explanations are built only for what is shown.
    const describe = (x: Scored): Ranked => {
      const cand = this.candidates[x.i]!;
      const weighed: { label: string; term: string; kind: ProfileConcept["kind"]; v: number }[] = [];
      for (const { c, s } of concepts) {
        const v = c.weight * s.values[x.i]!;
        if (v > 0) weighed.push({ label: c.label, term: s.terms[x.i]!, kind: c.kind, v });
      }
      const matched = weighed
        .sort((a, b) => b.v - a.v)
        .map(({ label, term, kind }) => ({ label, term, kind }));
      return {
        storyId: cand.storyId,
        score: x.score,
        relevance: x.relevance,
        features: {
          relevance: x.relevance,
          ...(x.semantic === null ? {} : { semantic: x.semantic }),
          importance: x.importance,
          freshness: x.freshness,
          outlets: cand.outletCount,
          updated: x.shown ? 1 : 0,
        },
        reason: explain(matched, cand.outletCount, x.shown),
        matched,
      };
    };
    // "Also today" lists headlines: none twice, none already picked.
    const headlinesShown = new Set(picked.map((p) => this.headlineKeys[p.i]!));
    const alsoToday = scored
      .filter((s) => {
        const key = this.headlineKeys[s.i]!;
        if (headlinesShown.has(key)) return false;
        headlinesShown.add(key);
        return true;
      })
      .slice(0, opts.alsoToday ?? 5);
    return { picked: picked.map(describe), alsoToday: alsoToday.map(describe) };
  }
}

/** Ranks one profile against candidates (a run of one; use RankingRun for many subscribers). */
export function rankForProfile(
  profile: ProfileVector,
  candidates: RankCandidate[],
  idf: (t: string) => number,
  opts: RankOptions,
): { picked: Ranked[]; alsoToday: Ranked[] } {
  return new RankingRun(candidates, idf).rank(profile, opts);
}

/** The profile concepts a story matches, strongest first: what feedback on that story adjusts. */
export function matchedConcepts(profile: ProfileVector, story: StoryText): string[] {
  const { candidates, idf } = prepareCandidates([story]);
  const cand = candidates[0]!;
  return profile.concepts
    .map((c) => ({ label: c.label, v: c.weight * conceptMatch(c, cand, idf).value }))
    .filter((x) => x.v > 0)
    .sort((a, b) => b.v - a.v)
    .map((x) => x.label);
}

/**
 * Cosine between profile and story embeddings, mapped to 0..1. Unrelated texts sit near 0.15 and
 * close topics around 0.6 for OpenAI's text-embedding-3 models; other models may need other
 * bounds (not calibrated here: no model is reachable offline).
 */
export function semanticRelevance(profile: number[], story: number[]): number {
  let dot = 0;
  let np = 0;
  let ns = 0;
  for (let i = 0; i < Math.min(profile.length, story.length); i++) {
    dot += profile[i]! * story[i]!;
    np += profile[i]! * profile[i]!;
    ns += story[i]! * story[i]!;
  }
  const cos = dot / (Math.sqrt(np * ns) || 1);
  return Math.max(0, Math.min(1, (cos - 0.15) / 0.45));
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Whether naming the matched term adds anything to the concept's label ("eu" under "EU regulation" does not). */
export function tellingTerm(term: string, label: string): boolean {
  return term.length >= 4 && !label.toLowerCase().includes(term);
}

/** "Semiconductors · mentions export controls · 3 outlets" */
export function explain(matched: Ranked["matched"], outlets: number, updated: boolean): string {
  const parts: string[] = [];
  const [first, second] = matched;
  const bothFollowed =
    first?.kind === "followed" && second?.kind === "followed" && second.label !== first.label;
  if (first) {
    parts.push(
      bothFollowed
        ? `You follow ${first.label} and ${second!.label}`
        : first.kind === "followed"
          ? `You follow ${first.label}`
          : capitalize(first.label),
    );
    if (tellingTerm(first.term, first.label)) parts.push(`mentions ${first.term}`);
  }
  if (second && second.label !== first?.label && !bothFollowed) parts.push(capitalize(second.label));
  if (parts.length === 0) parts.push("Top story today");
  parts.push(outlets === 1 ? "1 outlet" : `${outlets} outlets`);
  if (updated) parts.push("updated since you saw it");
  return parts.join(" · ");
}
