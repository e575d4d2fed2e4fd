import { lookup as dnsLookup } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { pipeline, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { isPrivateAddress, isPrivateHostLiteral, mayReachPrivately } from "../../lib/addresses.ts";
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
  /** The whole of one attempt (connection, headers and body), in ms. */
  timeoutMs?: number;
  /** Largest body accepted, counted after decompression. */
  maxBytes?: number;
  maxRedirects?: number;
  /** Development and tests only: let requests reach loopback and private addresses. */
  allowPrivate?: boolean;
  /**
   * Hostnames or IP literals that may be fetched even though they are (or resolve to) private
   * addresses: the explicit allow-list for an intranet feed. Matched against the URL's host on
   * every hop, so a redirect from an allowed host to another private one is still refused.
   */
  allowHosts?: string[];
  /** Requests in flight to one host at a time. */
  perHostConcurrency?: number;
  /** Politeness: least time between the starts of two requests to one host, in ms. */
  hostDelayMs?: number;
  /**
   * The same for a loopback or private IP literal, or localhost, reached by permission
   * (allowPrivate or the allow-list): one's own development or test server, not a publisher.
   * Default 0: an operator ingesting a hundred local feeds should not wait fifty seconds of
   * politeness meant for others.
   */
  privateHostDelayMs?: number;
  /** Further attempts after a transient failure (connection reset or refused, timeout, 429/502/503/504). */
  retries?: number;
  /** Wait before the first retry; it doubles for each further one. */
  retryDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the response is returned as it is. */
  maxRetryAfterMs?: number;
};

/** Failures worth another attempt: the next one may well succeed. */
class TransientError extends AppError {
  constructor(message: string) {
    super("UPSTREAM", message);
  }
}

const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
]);
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as NodeJS.ErrnoException;
  // The response had begun: say so rather than Node's bare "aborted".
  if (e.message === "aborted" || e.code === "ERR_STREAM_PREMATURE_CLOSE") {
    return new TransientError("the connection closed before the body was complete");
  }
  if (e.code && TRANSIENT_CODES.has(e.code)) return new TransientError(e.message);
  if (e.code?.startsWith("Z_") || e.code?.startsWith("ERR__")) {
    return new AppError("UPSTREAM", `bad response body: ${e.message}`);
  }
  return new AppError("UPSTREAM", e.message ?? String(err));
}

/** Retry-After as ms: delta-seconds or an HTTP date; null when absent or unreadable. */
function retryAfterMs(value: string | undefined): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/**
 * Per-host gate: at most `limit` requests in flight to a host, and their starts at least `gapMs`
 * apart. Waiters are served in arrival order.
 */
function createHostGate(limit: number, gapMs: (host: string) => number) {
  type Host = { active: number; waiting: (() => void)[]; nextStartAt: number };
  const hosts = new Map<string, Host>();

  function release(key: string, h: Host) {
    const next = h.waiting.shift();
    if (next) return next(); // the slot passes straight to the next waiter
    h.active--;
    if (h.active === 0 && h.nextStartAt <= Date.now()) hosts.delete(key);
  }

  return async function acquire(key: string): Promise<() => void> {
    if (hosts.size > 1000) {
      for (const [k, idle] of hosts) if (idle.active === 0 && idle.nextStartAt <= Date.now()) hosts.delete(k);
    }
    let h = hosts.get(key);
    if (!h) {
      h = { active: 0, waiting: [], nextStartAt: 0 };
      hosts.set(key, h);
    }
    const host = h;
    if (host.active < limit) host.active++;
    else await new Promise<void>((resolve) => host.waiting.push(resolve));
    const now = Date.now();
    const startAt = Math.max(now, host.nextStartAt);
    host.nextStartAt = startAt + gapMs(key);
    if (startAt > now) await sleep(startAt - now);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release(key, host);
    };
  };
}

type Attempt = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
type Scheme = "http:" | "https:";

const bareHost = (url: URL) => url.hostname.replace(/^\[|\]$/g, "").toLowerCase();

/**
 * GET over http(s) with the guards a feed fetcher needs: the address is checked after DNS
 * resolution on every hop (the connection uses the checked address, so DNS rebinding cannot
 * slip past), redirects are followed by hand up to a limit, bodies are capped and decompressed.
 * Hosts are treated politely (few requests at once, spaced out) and transient failures retried.
 */
export function createHttpFetcher(opts: HttpFetcherOptions): Fetcher {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
  const maxRedirects = opts.maxRedirects ?? 5;
  const retries = opts.retries ?? 2;
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 30_000;
  const mayReachPrivate = (host: string) => mayReachPrivately(host, opts);
  const hostDelayMs = opts.hostDelayMs ?? 500;
  const privateHostDelayMs = Math.min(hostDelayMs, opts.privateHostDelayMs ?? 0);
  // Known private before any lookup: an IP literal or localhost (a name resolving to a private
  // address is spaced like any other host).
  const ownServer = (host: string) => mayReachPrivate(host) && isPrivateHostLiteral(host);
  const acquireHost = createHostGate(opts.perHostConcurrency ?? 2, (host) =>
    ownServer(host) ? privateHostDelayMs : hostDelayMs,
  );
  // Own agents: a pooled socket opened for another fetcher (other guards) is never reused.
  const agents = {
    "http:": new http.Agent({ keepAlive: false }),
    "https:": new https.Agent({ keepAlive: false }),
  };
  const tooLarge = () => new AppError("UPSTREAM", `response too large: over ${maxBytes} bytes`);

  /** Reads a response: redirects and 304 without a body, others decompressed up to the cap. */
  function receive(res: http.IncomingMessage, finish: (err: AppError | null, attempt?: Attempt) => void) {
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400) {
      res.resume();
      return finish(null, { status, headers: res.headers, body: Buffer.alloc(0) });
    }
    if (Number(res.headers["content-length"] ?? 0) > maxBytes) return finish(tooLarge());
    const enc = String(res.headers["content-encoding"] ?? "")
      .trim()
      .toLowerCase();
    const decoder =
      enc === "gzip" || enc === "x-gzip"
        ? createGunzip()
        : enc === "deflate"
          ? createInflate()
          : enc === "br"
            ? createBrotliDecompress()
            : null;
    const chunks: Buffer[] = [];
    let size = 0;
    // Counted after decompression, so a compression bomb stops at the cap too.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(tooLarge());
        chunks.push(chunk);
        done();
      },
    });
    pipeline(decoder ? [res, decoder, sink] : [res, sink], (err) => {
      if (err) finish(toAppError(err));
      else finish(null, { status, headers: res.headers, body: Buffer.concat(chunks) });
    });
  }

  const guardedLookup: typeof dnsLookup = ((
    hostname: string,
    options: object,
    callback: (err: Error | null, address: string | object[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "");
      const list = addresses as { address: string; family: number }[];
      const bad = list.find((a) => isPrivateAddress(a.address));
      if (bad && !mayReachPrivate(hostname)) {
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

  /** One request, one hop, no retry. */
  function once(url: URL, req: FetchRequest): Promise<Attempt> {
    return new Promise((resolve, reject) => {
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
      let settled = false;
      let request: http.ClientRequest | undefined;
      const finish = (err: AppError | null, attempt?: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          request?.destroy();
          reject(err);
        } else resolve(attempt!);
      };
      const timer = setTimeout(
        // Not retried at once: a host silent for the whole deadline seldom answers a second later,
        // and three deadlines held an ingest run 48 s for one hanging feed. The source's back-off
        // schedule comes back to it.
        () => finish(new AppError("UPSTREAM", `timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      try {
        request = mod.get(
          url,
          { headers, lookup: guardedLookup, agent: agents[url.protocol as Scheme] },
          (res) => receive(res, finish),
        );
      } catch (err) {
        return finish(toAppError(err));
      }
      request.on("error", (e) => finish(toAppError(e)));
    });
  }

  /** How long to wait before trying again, or null to stop here. */
  function retryWait(outcome: Attempt | AppError, attempt: number): number | null {
    if (attempt >= retries) return null;
    const backoff = retryDelayMs * 2 ** attempt;
    if (outcome instanceof Error) return outcome instanceof TransientError ? backoff : null;
    if (!RETRY_STATUSES.has(outcome.status)) return null;
    const after = retryAfterMs(outcome.headers["retry-after"] as string | undefined);
    if (after === null) return backoff;
    // Asked to come back much later: the source's own back-off schedule will.
    return after <= maxRetryAfterMs ? after : null;
  }

  async function fetchHop(url: URL, req: FetchRequest): Promise<Attempt> {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new AppError("VALIDATION", `unsupported URL scheme ${url.protocol}`);
    }
    const host = bareHost(url);
    if (isIP(host) && isPrivateAddress(host) && !mayReachPrivate(host)) {
      throw new AppError("UPSTREAM", `refused to fetch ${host}: private address`);
    }
    for (let attempt = 0; ; attempt++) {
      const release = await acquireHost(host);
      let outcome: Attempt | AppError;
      try {
        outcome = await once(url, req);
      } catch (err) {
        outcome = toAppError(err);
      } finally {
        release();
      }
      const wait = retryWait(outcome, attempt);
      if (wait === null) {
        if (outcome instanceof Error) throw outcome;
        return outcome;
      }
      if (wait > 0) await sleep(wait);
    }
  }

  return {
    async get(req) {
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        throw new AppError("VALIDATION", `not a URL: ${req.url.slice(0, 200)}`);
      }
      for (let hop = 0; ; hop++) {
        const res = await fetchHop(url, req);
        const status = res.status;
        if (status >= 300 && status < 400 && status !== 304) {
          const location = res.headers.location;
          if (!location) throw new AppError("UPSTREAM", `redirect ${status} without a Location header`);
          if (hop >= maxRedirects)
            throw new AppError("UPSTREAM", `too many redirects (over ${maxRedirects})`);
          try {
            url = new URL(location, url);
          } catch {
            throw new AppError("UPSTREAM", `redirect to an invalid URL: ${location.slice(0, 200)}`);
          }
          continue;
        }
        return {
          status,
          url: url.toString(),
          body: res.body,
          contentType: res.headers["content-type"] ?? null,
          etag: (res.headers.etag as string | undefined) ?? null,
          lastModified: (res.headers["last-modified"] as string | undefined) ?? null,
          notModified: status === 304,
        };
      }
    },
  };
}
