import { terms } from "../../lib/text.ts";
import type { ProfileConcept, ProfileVector } from "./profile-vector.ts";

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
};

export type StoryText = {
  storyId: string;
  headline: string;
  texts: string[];
  outletCount: number;
  domains: string[];
  lastSeenAt: Date;
  revision: number;
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
};

const W_RELEVANCE = 0.7;
const W_IMPORTANCE = 0.2;
const W_FRESHNESS = 0.1;
const MMR_LAMBDA = 0.8;

function conceptMatch(c: ProfileConcept, cand: RankCandidate, idf: (t: string) => number) {
  let sum = 0;
  let bestTerm = "";
  let bestTermScore = 0;
  for (const t of c.terms) {
    const tf = cand.tf.get(t.stem);
    if (!tf) continue;
    // Phrases are rarer and more telling than single words.
    const s = (1 + Math.log(tf)) * idf(t.stem) * (t.stem.includes(" ") ? 1.5 : 1);
    sum += s;
    if (s > bestTermScore) {
      bestTermScore = s;
      bestTerm = t.text;
    }
  }
  // Saturates: ten generic hits must not beat two precise ones by much.
  return { value: 1 - Math.exp(-sum / 4), term: bestTerm };
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

function isMuted(profile: ProfileVector, cand: RankCandidate, mutedSources: string[]): boolean {
  for (const phrase of profile.muted) {
    if (cand.tf.has(phrase.join(" "))) return true;
  }
  return mutedSources.length > 0 && cand.domains.every((d) => mutedSources.includes(d));
}

/**
 * Scores every candidate for one profile and picks the briefing: relevance to the profile's
 * concepts, importance (outlets), freshness; muted topics and sources out; stories already
 * shown only when they changed since; then maximal marginal relevance for a diverse top.
 */
export function rankForProfile(
  profile: ProfileVector,
  candidates: RankCandidate[],
  idf: (t: string) => number,
  opts: RankOptions,
): { picked: Ranked[]; alsoToday: Ranked[] } {
  const totalWeight = profile.concepts.reduce((s, c) => s + c.weight, 0) || 1;
  const scored: (Ranked & { cand: RankCandidate })[] = [];
  for (const cand of candidates) {
    if (isMuted(profile, cand, opts.mutedSources ?? [])) continue;
    const shown = opts.alreadyShown?.get(cand.storyId);
    if (shown !== undefined && cand.revision <= shown) continue;
    const matched: Ranked["matched"] = [];
    let weighted = 0;
    const contributions: { label: string; term: string; kind: ProfileConcept["kind"]; v: number }[] = [];
    for (const c of profile.concepts) {
      const m = conceptMatch(c, cand, idf);
      if (m.value <= 0) continue;
      weighted += c.weight * m.value;
      contributions.push({ label: c.label, term: m.term, kind: c.kind, v: c.weight * m.value });
    }
    contributions.sort((a, b) => b.v - a.v);
    for (const c of contributions) matched.push({ label: c.label, term: c.term, kind: c.kind });
    // Relative to the profile's size, then squashed to 0..1.
    const relevance = 1 - Math.exp((-3 * weighted) / Math.sqrt(totalWeight));
    const importance = Math.min(1, Math.log2(1 + cand.outletCount) / Math.log2(6));
    const ageHours = Math.max(0, (opts.now.getTime() - cand.lastSeenAt.getTime()) / 3600_000);
    const freshness = Math.exp(-ageHours / 24);
    const repeatPenalty = shown !== undefined ? 0.5 : 1;
    const score =
      (W_RELEVANCE * relevance + W_IMPORTANCE * importance + W_FRESHNESS * freshness) * repeatPenalty;
    scored.push({
      storyId: cand.storyId,
      score,
      relevance,
      features: {
        relevance,
        importance,
        freshness,
        outlets: cand.outletCount,
        updated: shown !== undefined ? 1 : 0,
      },
      reason: explain(matched, cand.outletCount, shown !== undefined),
      matched,
      cand,
    });
  }
  scored.sort((a, b) => b.score - a.score);

  // Diversity: each next pick trades score against similarity to what is already picked.
  const pool = scored.slice(0, Math.max(opts.limit * 6, 30));
  const picked: typeof scored = [];
  while (picked.length < opts.limit && pool.length > 0) {
    let bestIdx = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < pool.length; i++) {
      const c = pool[i]!;
      const redundancy = picked.reduce((m, p) => Math.max(m, similarity(c.cand, p.cand)), 0);
      const value = MMR_LAMBDA * c.score - (1 - MMR_LAMBDA) * redundancy;
      if (value > bestValue) {
        bestValue = value;
        bestIdx = i;
      }
    }
    picked.push(pool.splice(bestIdx, 1)[0]!);
  }
  const strip = ({ cand: _c, ...r }: Ranked & { cand: RankCandidate }): Ranked => r;
  const alsoToday = scored.filter((s) => !picked.includes(s)).slice(0, opts.alsoToday ?? 5);
  return { picked: picked.map(strip), alsoToday: alsoToday.map(strip) };
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
  if (first) {
    parts.push(first.kind === "followed" ? `You follow ${first.label}` : capitalize(first.label));
    if (tellingTerm(first.term, first.label)) parts.push(`mentions ${first.term}`);
  }
  if (second && second.label !== first?.label) parts.push(capitalize(second.label));
  if (parts.length === 0) parts.push("Top story today");
  parts.push(outlets === 1 ? "1 outlet" : `${outlets} outlets`);
  if (updated) parts.push("updated since you saw it");
  return parts.join(" · ");
}
