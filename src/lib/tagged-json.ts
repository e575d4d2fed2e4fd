import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { Context, MiddlewareHandler } from "hono";
import { compress } from "hono/compress";
import { parseAccept } from "hono/utils/accept";
import { type AppEnv, REQUEST_ID_HEADER, requestHeader } from "./http.ts";

// JSON answers serialized once and sent whole: strong ETags, 304s, gzip made once per body, and
// the compression middleware that leaves such answers alone (the hot path of the app's reads).

/**
 * A JSON body serialized once (UTF-8 bytes), with its strong ETag: what jsonWithEtag sends.
 * `gzipped` is filled the first time a client that accepts gzip asks, so an answer kept in a
 * cache is compressed once, not per request.
 */
export type TaggedJson = { bytes: Uint8Array; etag: string; gzipped?: Uint8Array };

export function tagJson(body: unknown): TaggedJson {
  const bytes = Buffer.from(JSON.stringify(body));
  return { bytes, etag: `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 27)}"` };
}

/**
 * JSON with a strong ETag over its bytes; a matching If-None-Match answers 304 with no body.
 * Private: briefings and stories are per reader; revalidated because they change during the day.
 */
export function jsonWithEtag<T>(c: Context, body: T) {
  return sendTaggedJson(c, tagJson(body));
}

/** Below this a gzip answer saves less than it costs (hono's compress() uses the same threshold). */
const GZIP_MIN_BYTES = 1024;

/** Whether an Accept-Encoding header takes gzip (explicitly or by `*`, with a q above 0). */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  const accepts = parseAccept(header);
  const gzip = accepts.find((a) => a.type.toLowerCase() === "gzip") ?? accepts.find((a) => a.type === "*");
  return gzip !== undefined && gzip.q > 0;
}

/**
 * jsonWithEtag for a body serialized earlier (e.g. kept in a cache). A client that accepts gzip
 * gets the gzip representation, compressed once per TaggedJson (hono's compress() would run a
 * CompressionStream per request), under its own strong ETag (the identity tag with "-gzip"), as
 * representations with different bytes must have different strong tags. Either tag revalidates:
 * both name the same content.
 */
export function sendTaggedJson(c: Context, tagged: TaggedJson) {
  const gzip = tagged.bytes.byteLength >= GZIP_MIN_BYTES && acceptsGzip(requestHeader(c, "accept-encoding"));
  const etag = gzip ? gzipTag(tagged.etag) : tagged.etag;
  const headers: Record<string, string> = {
    etag,
    "cache-control": "private, no-cache",
    "content-type": "application/json",
    vary: "accept-encoding",
  };
  const match = requestHeader(c, "if-none-match");
  // "*" matches any current representation (RFC 9110, 13.1.2): this one exists.
  if (
    match?.split(",").some((t) => t.trim() === "*" || sameContent(t.trim().replace(/^W\//, ""), tagged.etag))
  ) {
    return completeResponse(c, null, 304, headers);
  }
  if (!gzip) return completeResponse(c, tagged.bytes, 200, headers);
  tagged.gzipped ??= gzipSync(tagged.bytes);
  headers["content-encoding"] = "gzip";
  return completeResponse(c, tagged.gzipped, 200, headers);
}

/** The strong tag of the gzip form: the identity tag with "-gzip" inside its quotes. */
const gzipTag = (identityTag: string) => `${identityTag.slice(0, -1)}-gzip"`;
const sameContent = (tag: string, identityTag: string) => tag === identityTag || tag === gzipTag(identityTag);

/**
 * Marks answers built whole by completeResponse: compression leaves them as they are. A property,
 * not a WeakSet: each WeakSet entry is an ephemeron the garbage collector must trace (~1% of a
 * cached read's CPU in perf).
 */
const COMPLETE = Symbol("complete response");
type Marked = Response & { [COMPLETE]?: true };

/**
 * An answer with every header it needs, the request id included, sent as @hono/node-server's
 * lightweight response with a plain header record: for hot routes (cached briefings and stories).
 * Built through c.body, its headers would be merged into a Headers object with those set before
 * the route and turned back into a record on the way out (measured: ~10% of a cached read's CPU).
 * Headers other middleware set with c.header() before the route do not reach it.
 */
function completeResponse(
  c: Context,
  body: Uint8Array | null,
  status: number,
  headers: Record<string, string>,
): Response {
  const id = (c as Context<AppEnv>).get("requestId");
  if (id) headers[REQUEST_ID_HEADER] = id;
  const res = new Response(body as Uint8Array<ArrayBuffer> | null, { status, headers });
  (res as Marked)[COMPLETE] = true;
  return res;
}

/**
 * gzip or deflate when the client asks (the app does; load tests and curl usually do not), with
 * hono's compress(). Only then: it sets Vary on every answer, which turns @hono/node-server's
 * lightweight response into a full fetch Response (a ReadableStream per answer). Answers built
 * by completeResponse are left as they are: sendTaggedJson compressed them once already where it
 * pays (a cached briefing or story, 1 KB or more, to a client taking gzip); a client taking only
 * deflate gets them uncompressed, under their strong ETag.
 */
export function compressUnlessComplete(): MiddlewareHandler {
  const compressing = compress();
  const routeDone = async () => {};
  return async (c, next) => {
    if (!requestHeader(c, "accept-encoding")) return next();
    await next();
    if (!(c.res as Marked)[COMPLETE]) await compressing(c, routeDone);
  };
}
