/**
 * 64-bit SimHash over word 3-shingles: wire copies re-run by several outlets differ in a few bits.
 * Two 32-bit FNV-1a lanes keep the inner loop in plain numbers.
 */
function fnv1a32(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function simhash(text: string): bigint {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const acc = new Int32Array(64);
  const n = Math.max(1, words.length - 2);
  for (let i = 0; i < n; i++) {
    const shingle = words.slice(i, i + 3).join(" ");
    const lo = fnv1a32(shingle, 0x811c9dc5);
    const hi = fnv1a32(shingle, 0x050c5d1f);
    for (let b = 0; b < 32; b++) {
      acc[b]! += (lo >>> b) & 1 ? 1 : -1;
      acc[b + 32]! += (hi >>> b) & 1 ? 1 : -1;
    }
  }
  let lo = 0;
  let hi = 0;
  for (let b = 0; b < 32; b++) {
    if (acc[b]! > 0) lo |= 1 << b;
    if (acc[b + 32]! > 0) hi |= 1 << b;
  }
  // Signed 64-bit so it fits a Postgres bigint.
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

export function hammingDistance(a: bigint, b: bigint): number {
  let x = BigInt.asUintN(64, a ^ b);
  let count = 0;
  while (x) {
    x &= x - 1n;
    count++;
  }
  return count;
}

/** The four 16-bit bands of a 64-bit hash, lowest first. */
export function simhashBands(h: bigint): [number, number, number, number] {
  const u = BigInt.asUintN(64, h);
  return [0, 1, 2, 3].map((i) => Number((u >> BigInt(16 * i)) & 0xffffn)) as [number, number, number, number];
}
