/** Sparse term vectors: term -> weight. */
export type SparseVector = Record<string, number>;

export function termFrequencies(terms: string[]): SparseVector {
  const v: SparseVector = {};
  for (const t of terms) v[t] = (v[t] ?? 0) + 1;
  return v;
}

/** Keep the `n` heaviest terms: bounds what a story carries as it grows. */
export function topTerms(v: SparseVector, n: number): SparseVector {
  const entries = Object.entries(v)
    .sort((x, y) => y[1] - x[1])
    .slice(0, n);
  return Object.fromEntries(entries);
}
