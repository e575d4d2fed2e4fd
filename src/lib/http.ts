import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { AppError, type ErrorCode, type FieldError, validationError } from "./errors.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { isStorableText } from "./text.ts";
import { isAfterTodayEverywhere } from "./time.ts";
import { hashToken } from "./tokens.ts";

export type AppEnv = { Variables: { requestId: string } };

export const STATUS_OF: Record<ErrorCode, 400 | 401 | 404 | 409 | 429 | 502> = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UPSTREAM: 502,
};

// The statuses' own phrases (RFC 9110), as RFC 9457 asks of "about:blank" problems; 400 has a
// type of its own.
const TITLE_OF: Record<number, string> = {
  400: "Invalid request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
};

/**
 * A request header, read from Node's own request when the server is @hono/node-server, else from
 * the fetch Request (tests, other runtimes). c.req.header() makes @hono/node-server build a WHATWG
 * Headers object for every request, which was a tenth of a cached briefing read's CPU. Repeated
 * headers are joined with ", " as the Headers object joins them (Node's `headers` would keep only
 * the first Authorization, so a request with two would read as the first).
 */
export function requestHeader(c: Context, name: Lowercase<string>): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming?.headersDistinct) {
    const values = incoming.headersDistinct[name];
    return values?.length === 1 ? values[0] : values?.join(", ");
  }
  return c.req.header(name);
}

export const REQUEST_ID_HEADER = "x-request-id";

/**
 * Each request's id: the caller's X-Request-Id when it is short and plain, else a new UUID; kept
 * as the `requestId` variable (logs, problem documents) and set on the answer before the route
 * runs, so every answer built with c.body/c.json carries it (HEAD and error answers included);
 * completeResponse adds it itself.
 */
export const requestIds: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.header(REQUEST_ID_HEADER, assignRequestId(c));
  await next();
};

/** The request's id (see requestIds), kept as the `requestId` variable and returned. */
export function assignRequestId(c: Context<AppEnv>): string {
  const given = requestHeader(c, REQUEST_ID_HEADER);
  const id = given && given.length <= 255 && /^[\w\-=]+$/.test(given) ? given : randomUUID();
  c.set("requestId", id);
  return id;
}

/** An RFC 9457 problem document. */
export function problemBody(
  status: number,
  detail: string,
  requestId: string | undefined,
  errors?: FieldError[],
) {
  return {
    type: status === 400 ? "https://daybreak.dev/problems/validation" : "about:blank",
    title: TITLE_OF[status] ?? "Error",
    status,
    detail,
    requestId: requestId ?? null,
    ...(errors?.length ? { errors } : {}),
  };
}

export function problem(c: Context, status: number, detail: string, errors?: FieldError[]) {
  return c.body(JSON.stringify(problemBody(status, detail, c.get("requestId"), errors)), status as never, {
    "content-type": "application/problem+json",
    // RFC 6750: a 401 names the scheme that would be accepted.
    ...(status === 401 ? { "www-authenticate": 'Bearer realm="daybreak"' } : {}),
  });
}

/** A router whose request validation failures become one VALIDATION error naming each field. */
export function createRouter<E extends AppEnv = AppEnv>() {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) {
        const target = result.target === "json" ? "body" : result.target === "param" ? "path" : result.target;
        throw validationError(result.error.issues, target, `invalid ${target}`);
      }
    },
  });
}

// Field errors named per request, at most: a hostile body may hold thousands.
const MAX_TEXT_ERRORS = 20;

/**
 * Where in a JSON value text PostgreSQL cannot store sits: "body.interests.2", "body.name".
 * Walked with a stack of its own: a 2 MB body may nest a million levels deep.
 */
function unstorableText(root: unknown): string[] {
  const found: string[] = [];
  const stack: [unknown, string][] = [[root, "body"]];
  while (stack.length > 0 && found.length < MAX_TEXT_ERRORS) {
    const [value, at] = stack.pop()!;
    if (typeof value === "string") {
      if (!isStorableText(value)) found.push(at);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${at}.${i}`]);
    } else if (value !== null && typeof value === "object") {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        if (isStorableText(k)) stack.push([v, `${at}.${k}`]);
        else found.push(at);
      }
    }
  }
  return found;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether a Content-Type names JSON (application/json, application/problem+json, ...). */
export const isJsonType = (contentType: string) => /^application\/([\w.+-]+\+)?json\b/i.test(contentType);

/**
 * JSON bodies, before any route reads them: a body that is not JSON, or text no PostgreSQL text
 * or jsonb column can hold (a NUL; an unpaired surrogate, which came back as a 500 from jsonb or
 * was silently stored as U+FFFD), answers 400 naming each place, in every route at once.
 */
export const checkJsonBody: MiddlewareHandler = async (c, next) => {
  const type = requestHeader(c, "content-type") ?? "";
  if (!isJsonType(type)) return next();
  // Decoded strictly: c.req.text() turns bytes that are not UTF-8 into U+FFFD, and the mangled
  // text was stored as if sent (JSON is UTF-8, RFC 8259).
  const bytes = await c.req.arrayBuffer();
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new AppError("VALIDATION", "the request body is not valid UTF-8, as JSON must be", [
      { location: "body", message: "is not valid UTF-8" },
    ]);
  }
  // Routes read the body through hono's cache (its validators included), from its first entry:
  // the text, as decoded here. (Hono keeps promises there, whatever its type says.)
  const cache = c.req.bodyCache as Record<string, unknown>;
  delete cache.arrayBuffer;
  cache.text = Promise.resolve(text);
  if (text.trim() === "") {
    // Read as {}: an optional body left out by a client that still labels it JSON (OkHttp and
    // fetch wrappers do) is accepted, and a required one is told which fields it lacks.
    cache.text = Promise.resolve("{}");
    return next();
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : "unreadable";
    throw new AppError("VALIDATION", `the request body is not valid JSON: ${why}`, [
      { location: "body", message: `is not valid JSON: ${why}` },
    ]);
  }
  const found = unstorableText(body);
  if (found.length > 0) {
    const message = "must be valid text (no NUL character, no unpaired surrogate)";
    throw new AppError(
      "VALIDATION",
      `text that cannot be stored at ${found.join(", ")}`,
      found.map((location) => ({ location, message })),
    );
  }
  await next();
};

export function bearerToken(c: Context): string | null {
  const header = requestHeader(c, "authorization");
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return m ? m[1]! : null;
}

/**
 * Spends one of `key`'s requests from `limiter`; with none left, answers 429 with Retry-After,
 * saying whose requests ran out ("this token", "this address").
 */
export function spendOrRefuse(c: Context, limiter: RateLimiter, key: string, whose: string): void {
  const allowed = limiter.take(key);
  if (allowed.ok) return;
  c.header("retry-after", String(allowed.retryAfterSeconds));
  throw new AppError(
    "RATE_LIMITED",
    `too many requests for ${whose}; retry in ${allowed.retryAfterSeconds} s`,
  );
}

/** Admin routes: the ADMIN_TOKEN bearer, compared by hash so timing says nothing. */
export function adminAuth(adminToken: string): MiddlewareHandler {
  const expected = hashToken(adminToken);
  return async (_c, next) => {
    const token = bearerToken(_c);
    if (!token) throw new AppError("UNAUTHORIZED", "admin bearer token required");
    if (hashToken(token) !== expected) throw new AppError("UNAUTHORIZED", "the admin token is not valid");
    await next();
  };
}

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    requestId: z.string().nullable(),
    errors: z.array(z.object({ location: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

/** OpenAPI declarations of the error answers a route can give. */
export function problemResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: TITLE_OF[s] ?? "Error",
        content: { "application/problem+json": { schema: problemSchema } },
      },
    ]),
  ) as Record<
    S,
    { description: string; content: { "application/problem+json": { schema: typeof problemSchema } } }
  >;
}

/**
 * A date an admin gives for a build or a send, refused when it is after today everywhere: a
 * briefing dated 9999-12-31 would head every reader's list for good.
 */
export function refuseDateAfterToday(date: string | undefined, now: Date): void {
  if (date !== undefined && isAfterTodayEverywhere(date, now)) {
    throw new AppError("VALIDATION", `the date ${date} is after today in every time zone`, [
      { location: "body.date", message: "must not be after today" },
    ]);
  }
}
