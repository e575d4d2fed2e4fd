import { isIP } from "node:net";

/**
 * Which addresses a server-side fetch must never reach unless told to: loopback, private,
 * link-local (cloud metadata), carrier-grade NAT, unique-local, multicast, documentation. Used by
 * the fetcher after every DNS resolution and by the source registry on IP literals.
 */

function ipv4Private(address: string): boolean {
  const [a, b, c] = address.split(".").map(Number) as [number, number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113) ||
    a >= 224
  );
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const dotted = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const parse = (s: string) => (s ? s.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
}

const embeddedIpv4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** True for addresses a server-side fetch must never reach: loopback, private, link-local, ULA, metadata. */
export function isPrivateAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) return ipv4Private(address);
  if (v !== 6) return true;
  const g = ipv6Groups(address);
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  // IPv4 inside IPv6 (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4
  // 2002::/16): judged by the IPv4 address, which is where the connection ends up.
  if (zeros(5) && g[5] === 0xffff) return ipv4Private(embeddedIpv4(g[6]!, g[7]!));
  if (zeros(6)) return g[7]! <= 1 || ipv4Private(embeddedIpv4(g[6]!, g[7]!));
  if (g[0] === 0x64 && g[1] === 0xff9b) return g[2] !== 0 || ipv4Private(embeddedIpv4(g[6]!, g[7]!));
  if (g[0] === 0x2002) return ipv4Private(embeddedIpv4(g[1]!, g[2]!));
  const first = g[0]!;
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xffc0) === 0xfec0 || // site-local fec0::/10
    (first & 0xff00) === 0xff00 || // multicast
    (first === 0x2001 && (g[1] === 0 || g[1] === 0xdb8)) || // Teredo, documentation
    (first === 0x100 && zeros(4)) // discard-only
  );
}

/** A URL host that is plainly one's own machine or network, before any DNS lookup: an IP literal or localhost. */
export function isPrivateHostLiteral(host: string): boolean {
  const h = bareHostName(host);
  return h === "localhost" || h.endsWith(".localhost") || (isIP(h) !== 0 && isPrivateAddress(h));
}

export type PrivateAccess = { allowPrivate?: boolean; allowHosts?: string[] };

/** A host's bare, lower-case name: IPv6 brackets dropped. */
export const bareHostName = (host: string) => host.replace(/^\[|\]$/g, "").toLowerCase();

/**
 * Whether a fetch may reach `host` although it is, or resolves to, a private address: every
 * private address when `allowPrivate` (development and tests), or the hosts of the allow-list.
 */
export function mayReachPrivately(host: string, access: PrivateAccess): boolean {
  if (access.allowPrivate) return true;
  const name = bareHostName(host);
  return (access.allowHosts ?? []).some((h) => bareHostName(h) === name);
}
