import { lookup as dnsLookup } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { AppError } from "../../lib/errors.ts";

export type FetchRequest = {
  url: string;
  etag?: string | null;
  lastModified?: string | null;
  accept?: string;
};

export type FetchResponse = {
  status: number;
  /** The URL after redirects. */
  url: string;
  body: Buffer;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
  notModified: boolean;
};

/** What modules need of the outside web: one GET, safely. */
export interface Fetcher {
  get(req: FetchRequest): Promise<FetchResponse>;
}

export type HttpFetcherOptions = {
  userAgent: string;
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  /** Development and tests only: let requests reach loopback and private addresses. */
  allowPrivate?: boolean;
};

/** True for addresses a server-side fetch must never reach: loopback, private, link-local, ULA, metadata. */
export function isPrivateAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) {
    const [a, b] = address.split(".").map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (v === 6) {
    const lower = address.toLowerCase();
    const mapped = lower.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
    if (mapped) return isPrivateAddress(mapped[1]!);
    return (
      lower === "::" ||
      lower === "::1" ||
      lower.startsWith("fc") ||
      lower.startsWith("fd") ||
      /^fe[89ab]/.test(lower) ||
      lower.startsWith("ff")
    );
  }
  return true;
}

/**
 * GET over http(s) with the guards a feed fetcher needs: the address is checked after DNS
 * resolution on every hop (the connection uses the checked address, so DNS rebinding cannot
 * slip past), redirects are followed by hand up to a limit, bodies are capped and decompressed.
 */
export function createHttpFetcher(opts: HttpFetcherOptions): Fetcher {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
  const maxRedirects = opts.maxRedirects ?? 5;

  const guardedLookup: typeof dnsLookup = ((
    hostname: string,
    options: object,
    callback: (err: Error | null, address: string | object[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "");
      const list = addresses as { address: string; family: number }[];
      const bad = list.find((a) => isPrivateAddress(a.address));
      if (bad && !opts.allowPrivate) {
        return callback(
          new AppError(
            "UPSTREAM",
            `refused to fetch ${hostname}: it resolves to a private address (${bad.address})`,
          ),
          "",
        );
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  }) as never;

  function once(url: URL, req: FetchRequest): Promise<{ res: http.IncomingMessage; body: Buffer }> {
    return new Promise((resolve, reject) => {
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        return reject(new AppError("VALIDATION", `unsupported URL scheme ${url.protocol}`));
      }
      if (isIP(url.hostname.replace(/^\[|\]$/g, "")) && !opts.allowPrivate) {
        const host = url.hostname.replace(/^\[|\]$/g, "");
        if (isPrivateAddress(host)) {
          return reject(new AppError("UPSTREAM", `refused to fetch ${url.host}: private address`));
        }
      }
      const headers: Record<string, string> = {
        "user-agent": opts.userAgent,
        accept:
          req.accept ??
          "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5",
        "accept-encoding": "gzip, deflate, br",
      };
      if (req.etag) headers["if-none-match"] = req.etag;
      if (req.lastModified) headers["if-modified-since"] = req.lastModified;
      const mod = url.protocol === "https:" ? https : http;
      const r = mod.get(url, { headers, lookup: guardedLookup, timeout: timeoutMs }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          return resolve({ res, body: Buffer.alloc(0) });
        }
        const declared = Number(res.headers["content-length"] ?? 0);
        if (declared > maxBytes) {
          res.destroy();
          return reject(
            new AppError("UPSTREAM", `response too large: ${declared} bytes (limit ${maxBytes})`),
          );
        }
        const enc = String(res.headers["content-encoding"] ?? "").toLowerCase();
        const stream =
          enc === "gzip" || enc === "x-gzip"
            ? res.pipe(createGunzip())
            : enc === "deflate"
              ? res.pipe(createInflate())
              : enc === "br"
                ? res.pipe(createBrotliDecompress())
                : res;
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            res.destroy();
            stream.destroy();
            reject(new AppError("UPSTREAM", `response too large: over ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        stream.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
        stream.on("error", (e) => reject(new AppError("UPSTREAM", `bad response body: ${e.message}`)));
      });
      r.on("timeout", () => r.destroy(new AppError("UPSTREAM", `timed out after ${timeoutMs} ms`)));
      r.on("error", (e) => reject(e instanceof AppError ? e : new AppError("UPSTREAM", e.message)));
    });
  }

  return {
    async get(req) {
      let url = new URL(req.url);
      for (let hop = 0; ; hop++) {
        const { res, body } = await once(url, req);
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && status !== 304) {
          const location = res.headers.location;
          if (!location) throw new AppError("UPSTREAM", `redirect ${status} without a Location header`);
          if (hop >= maxRedirects)
            throw new AppError("UPSTREAM", `too many redirects (over ${maxRedirects})`);
          url = new URL(location, url);
          continue;
        }
        return {
          status,
          url: url.toString(),
          body,
          contentType: res.headers["content-type"] ?? null,
          etag: (res.headers.etag as string | undefined) ?? null,
          lastModified: (res.headers["last-modified"] as string | undefined) ?? null,
          notModified: status === 304,
        };
      }
    },
  };
}
