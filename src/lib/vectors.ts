/** Sparse term vectors (term -> weight) and their similarity. */
export type SparseVector = Record<string, number>;

export function termFrequencies(terms: string[]): SparseVector {
  const v: SparseVector = {};
  for (const t of terms) v[t] = (v[t] ?? 0) + 1;
  return v;
}

export function norm(v: SparseVector): number {
  let s = 0;
  for (const k in v) s += v[k]! * v[k]!;
  return Math.sqrt(s);
}

export function cosine(a: SparseVector, b: SparseVector): number {
  const [small, large] = Object.keys(a).length < Object.keys(b).length ? [a, b] : [b, a];
  let dot = 0;
  for (const k in small) {
    const w = large[k];
    if (w !== undefined) dot += small[k]! * w;
  }
  if (dot === 0) return 0;
  return dot / (norm(a) * norm(b));
}

export function addInto(target: SparseVector, v: SparseVector, scale = 1): SparseVector {
  for (const k in v) target[k] = (target[k] ?? 0) + v[k]! * scale;
  return target;
}

/** Keep the `n` heaviest terms: bounds what a story carries as it grows. */
export function topTerms(v: SparseVector, n: number): SparseVector {
  const entries = Object.entries(v)
    .sort((x, y) => y[1] - x[1])
    .slice(0, n);
  return Object.fromEntries(entries);
}
