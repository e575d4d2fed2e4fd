/**
 * 64-bit SimHash over word 3-shingles: wire copies re-run by several outlets differ in a few bits.
 * Each word is hashed once (two 32-bit lanes); a shingle's hash mixes its three words' hashes,
 * so the inner loop stays in plain 32-bit integers.
 */

/** murmur3's finalizer: spreads a combined value over all 32 bits. */
function mix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export function simhash(text: string): bigint {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  // Both lanes' word hashes in one pass over the characters (FNV-1a with two seeds).
  const lo: number[] = [];
  const hi: number[] = [];
  for (const word of words) {
    let a = 0x811c9dc5;
    let b = 0x050c5d1f;
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193);
    }
    lo.push(a >>> 0);
    hi.push(b >>> 0);
  }
  const n = Math.max(1, words.length - 2);
  // Per bit, the sign of (ones - zeros) over the shingles. Ones are counted bit-sliced: plane k
  // holds bit k of all 32 counters, so adding a shingle is a few word operations, not 64 adds.
  const planesLo: number[] = [];
  const planesHi: number[] = [];
  for (let i = 0; i < n; i++) {
    addToPlanes(planesLo, mix((lo[i] ?? 0) ^ Math.imul(lo[i + 1] ?? 0, 31) ^ Math.imul(lo[i + 2] ?? 0, 961)));
    addToPlanes(
      planesHi,
      mix((hi[i] ?? 0) ^ Math.imul(hi[i + 1] ?? 0, 37) ^ Math.imul(hi[i + 2] ?? 0, 1369)),
    );
  }
  const l = majority(planesLo, n);
  const h = majority(planesHi, n);
  // Signed 64-bit so it fits a Postgres bigint.
  return BigInt.asIntN(64, (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0));
}

/** Adds one to each of 32 bit-sliced counters whose bit is set in `x` (a ripple carry). */
function addToPlanes(planes: number[], x: number): void {
  let carry = x;
  for (let k = 0; carry !== 0; k++) {
    const p = planes[k] ?? 0;
    planes[k] = p ^ carry;
    carry &= p;
  }
}

/** Bits whose counter exceeds n/2: more ones than zeros among n shingles. */
function majority(planes: number[], n: number): number {
  let out = 0;
  for (let bit = 0; bit < 32; bit++) {
    let count = 0;
    for (let k = 0; k < planes.length; k++) count += ((planes[k]! >>> bit) & 1) << k;
    if (2 * count > n) out |= 1 << bit;
  }
  return out;
}

function popcount32(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** A 64-bit hash as two unsigned 32-bit halves [low, high]: Hamming distance without BigInt work. */
export function simhashHalves(h: bigint): [number, number] {
  const u = BigInt.asUintN(64, h);
  return [Number(u & 0xffffffffn), Number(u >> 32n)];
}

export function hammingHalves(a: [number, number], b: [number, number]): number {
  return popcount32((a[0] ^ b[0]) >>> 0) + popcount32((a[1] ^ b[1]) >>> 0);
}

export function hammingDistance(a: bigint, b: bigint): number {
  const x = BigInt.asUintN(64, a ^ b);
  return popcount32(Number(x & 0xffffffffn)) + popcount32(Number(x >> 32n));
}

/** The four 16-bit bands of a 64-bit hash, lowest first. */
export function simhashBands(h: bigint): [number, number, number, number] {
  const u = BigInt.asUintN(64, h);
  return [0, 1, 2, 3].map((i) => Number((u >> BigInt(16 * i)) & 0xffffn)) as [number, number, number, number];
}
