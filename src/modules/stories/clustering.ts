import { entities, terms } from "../../lib/text.ts";
import { type SparseVector, termFrequencies } from "../../lib/vectors.ts";

/** What the clusterer reads of an article. */
export type ClusterDoc = { title: string; content: string };

// The title says what the event is; the lead paragraphs say who and where. Later text drifts.
const TITLE_WEIGHT = 3;
const LEAD_WORDS = 250;

/** Raw term counts of an article: stemmed words, with named entities as extra "e:" terms. */
export function articleTerms(doc: ClusterDoc): SparseVector {
  const lead = doc.content.split(/\s+/).slice(0, LEAD_WORDS).join(" ");
  const v = termFrequencies(terms(lead));
  for (const t of terms(doc.title)) v[t] = (v[t] ?? 0) + TITLE_WEIGHT;
  for (const e of entities(`${doc.title}. ${lead}`)) {
    if (e.includes(" ") || e.length > 3) v[`e:${e}`] = (v[`e:${e}`] ?? 0) + 2;
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
