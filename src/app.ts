import { OpenAPIHono } from "@hono/zod-openapi";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { migrationsCurrent, shippedMigrations } from "./db/migrate.ts";
import type { Deps } from "./deps.ts";
import { createJobRoutes } from "./jobs/jobs.routes.ts";
import { renderMetrics } from "./jobs/metrics.ts";
import { DOCS_CSP, docsAsset, renderDocs } from "./lib/docs-page.ts";
import { AppError, refusedValue } from "./lib/errors.ts";
import {
  type AppEnv,
  assignRequestId,
  bearerToken,
  checkJsonBody,
  problem,
  requestHeader,
  requestIds,
  STATUS_OF,
  spendOrRefuse,
} from "./lib/http.ts";
import { RateLimiter } from "./lib/rate-limit.ts";
import { compressUnlessComplete, sendTaggedJson } from "./lib/tagged-json.ts";
import { type BriefingReads, createBriefingReads, createBriefingRoutes } from "./modules/briefings/index.ts";
import { createOutboxRoutes } from "./modules/delivery/index.ts";
import { createEmailActionRoutes } from "./modules/email-actions/index.ts";
import {
  createEmailLinkRoutes,
  createProfileRoutes,
  knownToken,
  subscriberAuth,
} from "./modules/profiles/index.ts";
import { createSharingRoutes } from "./modules/sharing/index.ts";
import { createSignupRoutes } from "./modules/signup/index.ts";
import { createSourceRoutes } from "./modules/sources/index.ts";

const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** What the full app and the front that answers from memory share: one limiter, one cache. */
type Shared = {
  limiter: RateLimiter;
  briefingReads: BriefingReads;
  logRequest: (c: Context<AppEnv>, status: number, started: number, fromMemory?: true) => void;
};

/**
 * Daybreak's HTTP app. A reader re-opening today's briefing, the app's most frequent request, is
 * answered by a one-route front when the token and the briefing are both in this process's memory;
 * everything else, misses included, goes to the full app (fullApp) as it would alone.
 * Why a front: Hono runs a route with middleware through its async compose (a promise per layer),
 * and a route with a single handler synchronously. bench:api, cached reads: down the full chain
 * 40-45 us of server CPU a read and 0.34-0.41 of a bare Hono route's requests/s (16 us); from the
 * front 33-35 us and 0.46-0.48.
 */
export function createApp(deps: Deps) {
  const shared: Shared = {
    limiter: new RateLimiter(deps.config.RATE_LIMIT_PER_SECOND, deps.config.RATE_LIMIT_BURST),
    briefingReads: createBriefingReads(deps),
    // One structured line per request with its id. The route's pattern is logged, never the path:
    // share, unsubscribe, preference, read and feedback paths carry secrets.
    logRequest: (c, status, started, fromMemory) =>
      deps.logger.info(
        {
          requestId: c.get("requestId"),
          method: c.req.method,
          route: c.req.routePath,
          status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          fromMemory,
        },
        "request",
      ),
  };
  const full = fullApp(deps, shared);
  const front = new Hono<AppEnv>();
  front.get("/v1/briefings/today", (c) => todayFromMemory(deps, shared, c) ?? full.fetch(c.req.raw, c.env));
  front.notFound((c) => full.fetch(c.req.raw, c.env));
  // Whatever fails in the front, the full app answers (and logs) the request as it would alone.
  front.onError((err, c) => {
    deps.logger.error({ err, route: "/v1/briefings/today" }, "answering from memory failed");
    return full.fetch(c.req.raw, c.env);
  });
  return front;
}

/**
 * Today's briefing answered as the full app would (sendTaggedJson: ETag, 304, gzip, request id;
 * the same rate limit and access log line), or undefined when the full app must answer: the token
 * or the briefing is not in memory, the token's requests ran out (the full app answers 429), or the
 * request carries a body (the full app checks it).
 */
function todayFromMemory(deps: Deps, { limiter, briefingReads, logRequest }: Shared, c: Context<AppEnv>) {
  const started = performance.now();
  const token = bearerToken(c);
  if (!token || requestHeader(c, "content-type") !== undefined) return undefined;
  const known = knownToken(deps, token);
  const tagged = known && briefingReads.keptToday(known.subscriber);
  if (!tagged || !limiter.take(token).ok) return undefined;
  assignRequestId(c);
  const res = sendTaggedJson(c, tagged);
  logRequest(c, res.status, started, true);
  return res;
}

/** The Hono app: every route mounted, one error handler mapping error codes to RFC 9457 answers. */
function fullApp(deps: Deps, { limiter, briefingReads, logRequest }: Shared) {
  const app = new OpenAPIHono<AppEnv>();
  const quiet = new Set(["/healthz", "/readyz", "/metrics"]);
  app.use(requestIds);
  app.use(compressUnlessComplete());
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    if (!quiet.has(c.req.path)) logRequest(c, c.res.status, started);
  });
  // The largest body a route takes is an article of 200,000 characters (up to 6 bytes each
  // escaped in JSON): anything far beyond is refused before it is read into memory.
  // Only for requests that may carry one: hono's bodyLimit reads c.req.raw.body, which makes
  // @hono/node-server build a full Request for every GET (measured: a cached briefing read went
  // from ~100 to ~150 us of server CPU, p99 at 1,000 req/s from 8 to 44 ms).
  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => problem(c, 413, `the request body is over ${MAX_BODY_BYTES / 1024 / 1024} MB`),
  });
  app.use((c, next) => (c.req.method === "GET" || c.req.method === "HEAD" ? next() : limitBody(c, next)));
  // Every JSON body is read once here: malformed JSON and unstorable text are named field errors.
  app.use(checkJsonBody);
  app.use("/v1/*", async (c, next) => {
    const token = bearerToken(c);
    if (token) spendOrRefuse(c, limiter, token, "this token");
    await next();
  });
  // Every /v1 route but sign-in reads as one subscriber: authenticated once here, not per module.
  const authenticated = subscriberAuth(deps);
  app.use("/v1/*", (c, next) =>
    c.req.path.startsWith("/v1/auth/") ? next() : authenticated(c as never, next),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  const shipped = shippedMigrations();
  app.get("/readyz", async (c) => {
    let current: boolean;
    try {
      current = await migrationsCurrent(deps.db, shipped);
    } catch {
      return problem(c, 503, "the database is not reachable");
    }
    if (!current) return problem(c, 503, "the database is missing migrations: run `daybreak migrate`");
    return c.json({ status: "ready" });
  });

  app.route("/", createProfileRoutes(deps));
  app.route("/", createSourceRoutes(deps));
  app.route("/", createBriefingRoutes(deps, briefingReads));
  app.route("/", createJobRoutes(deps));
  app.route("/", createSharingRoutes(deps));
  app.route("/", createSignupRoutes(deps));
  app.route("/", createEmailLinkRoutes(deps));
  app.route("/", createEmailActionRoutes(deps));
  // Only with the outbox mailer (no SMTP_URL): what would have been sent, listed and previewed.
  if (deps.mailer.outbox) app.route("/", createOutboxRoutes(deps));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  // The operational routes are plain Hono routes; they are described here so the document is whole.
  const operation = (path: string, description: string, type: string, ready = false) =>
    app.openAPIRegistry.registerPath({
      method: "get",
      path,
      tags: ["operations"],
      summary: description,
      responses: {
        200: {
          description,
          content: { [type]: { schema: { type: type === "application/json" ? "object" : "string" } } },
        },
        ...(ready ? { 503: { description: "not ready: database unreachable or migrations missing" } } : {}),
      },
    });
  operation("/healthz", "the process is up", "application/json");
  operation("/readyz", "the database is reachable and has every migration", "application/json", true);
  operation("/metrics", "Prometheus metrics", "text/plain");
  operation("/openapi.json", "this document (OpenAPI 3.1)", "application/json");
  operation("/docs", "interactive API documentation (Swagger UI, served by this server)", "text/html");

  const documentConfig = {
    openapi: "3.1.0" as const,
    info: {
      title: "Daybreak",
      version: "0.1.0",
      description: "Personalized daily briefings: every key point linked to the article it comes from.",
    },
  };
  // Built on first ask (every route is registered by then) and kept: it never changes in a process.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  const openApiDocument = () => {
    document ??= withCommonAnswers(app.getOpenAPI31Document(documentConfig));
    return document;
  };
  app.get("/openapi.json", (c) => c.json(openApiDocument()));

  app.get("/metrics", async (c) =>
    c.body(await renderMetrics(deps), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
  );
  // Interactive API documentation from the same OpenAPI document; its files come from this server.
  app.get("/docs", (c) => {
    return c.html(renderDocs(openApiDocument() as Parameters<typeof renderDocs>[0]), 200, {
      "content-security-policy": DOCS_CSP,
      "x-content-type-options": "nosniff",
    });
  });
  app.get("/docs/assets/:name", (c) => {
    const asset = docsAsset(c.req.param("name"));
    if (!asset) return problem(c, 404, `no documentation file named ${c.req.param("name")}`);
    return c.body(asset.bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": asset.type,
      "cache-control": "public, max-age=3600",
      "x-content-type-options": "nosniff",
    });
  });

  // A path that exists for other methods answers 405 with Allow (OPTIONS: 204 with Allow); a path
  // that does not, 404.
  const routeMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
  const allowedOn = (path: string) => {
    const allowed: string[] = routeMethods.filter((m) =>
      app.router.match(m, path)[0].some(([[, route]]) => route.method !== "ALL"),
    );
    return allowed.includes("GET") ? [...allowed, "HEAD"] : allowed;
  };
  app.notFound((c) => {
    const path = c.req.path;
    const allowed = allowedOn(path);
    if (allowed.length === 0) return problem(c, 404, `no route for ${c.req.method} ${path}`);
    c.header("allow", [...allowed, "OPTIONS"].join(", "));
    if (c.req.method === "OPTIONS") return c.body(null, 204);
    return problem(c, 405, `${c.req.method} is not allowed on ${path}; it takes ${allowed.join(", ")}`);
  });
  app.onError((err, c) => {
    if (err instanceof AppError) return problem(c, STATUS_OF[err.code], err.message, err.errors);
    if (err instanceof HTTPException) {
      // Hono's own refusals, e.g. a body that is not JSON.
      return problem(c, err.status, err.message || "the request could not be read");
    }
    if (err instanceof SyntaxError) return problem(c, 400, "the request body is not valid JSON");
    const refused = refusedValue(err);
    if (refused) {
      // Logged: a value the server computed itself (a date, a number) would land here too.
      deps.logger.warn(
        { err: refused, requestId: c.get("requestId"), route: c.req.routePath },
        "value refused",
      );
      return problem(c, 400, `a value in the request cannot be stored or compared: ${refused}`);
    }
    if (clientWentAway(err, c)) {
      // The client closed the connection while its body was being read: nothing to answer,
      // nothing of ours failed.
      deps.logger.info({ requestId: c.get("requestId"), route: c.req.routePath }, "client went away");
      return problem(c, 400, "the request was cut off before its body arrived");
    }
    deps.logger.error({ err, requestId: c.get("requestId"), route: c.req.routePath }, "unhandled error");
    return problem(c, 500, "something went wrong on our side; the request id helps us find it");
  });
  return app;
}

/** A body read that failed because the client's connection closed (Node: "aborted", ECONNRESET). */
function clientWentAway(err: Error, c: { env?: unknown }): boolean {
  const incoming = (c.env as { incoming?: { aborted?: boolean; destroyed?: boolean } } | undefined)?.incoming;
  const code = (err as { code?: unknown }).code;
  return (
    (err.message === "aborted" || code === "ECONNRESET") && Boolean(incoming?.destroyed || incoming?.aborted)
  );
}

type Operation = { security?: unknown[]; requestBody?: unknown; responses?: Record<string, unknown> };

/**
 * Answers the middleware gives on every route of a kind, added to each operation of that kind so
 * the document names every status a client meets: 429 with Retry-After on /v1 routes (the
 * per-token limit), 413 and 415 on routes that take a body (its size, its content type).
 */
function withCommonAnswers<D extends { paths?: object }>(doc: D): D {
  const problem = (description: string, headers?: object) => ({
    description,
    ...(headers ? { headers } : {}),
    content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
  });
  for (const [path, item] of Object.entries(doc.paths ?? {}) as [string, Record<string, Operation>][]) {
    for (const op of Object.values(item)) {
      if (!op || typeof op !== "object" || !op.responses) continue;
      if (path.startsWith("/v1/") && op.security?.length)
        op.responses["429"] ??= problem("Too many requests for this token", {
          "Retry-After": {
            description: "Seconds until a request is taken again",
            schema: { type: "integer" },
          },
        });
      if (op.requestBody) {
        op.responses["413"] ??= problem(`The request body is over ${MAX_BODY_BYTES / 1024 / 1024} MB`);
        op.responses["415"] ??= problem("The request body is not of a type this route takes");
      }
    }
  }
  return doc;
}
