import type { IncomingMessage } from "node:http";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Deps } from "../../deps.ts";
import { blankToUndefined, uuidParam } from "../../lib/field-schemas.ts";
import { htmlAnswer, PAGE_HEADERS, tokenParam } from "../../lib/html-page.ts";
import { createRouter, problemResponses, requestHeader } from "../../lib/http.ts";
import { bearerSecurity, type SubscriberEnv } from "../profiles/index.ts";
import { renderGonePage, renderSharePage } from "./share-page.ts";
import {
  createShare,
  isReaderView,
  isShareToken,
  listShares,
  openShare,
  RecentViews,
  readShareCursor,
  revokeShare,
  shareUrl,
  visitorKey,
} from "./sharing.service.ts";

/**
 * The reader's address: the last X-Forwarded-For hop when there is one (the address the proxy in
 * front of us saw; earlier hops are whatever the client wrote), else the socket's. Only to tell
 * readers apart in a view count, where a forged header can do no more than a changed browser.
 */
function clientAddress(c: Context): string {
  const forwarded = requestHeader(c, "x-forwarded-for")?.split(",").at(-1)?.trim();
  if (forwarded) return forwarded;
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress ?? "";
}

export function createSharingRoutes(deps: Deps) {
  const app = createRouter<SubscriberEnv>();
  const recentViews = new RecentViews();

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/stories/{id}/share",
      tags: ["subscriber"],
      summary: "Make a public link to a story (revocable, optional expiry)",
      security: bearerSecurity,
      request: {
        params: z.object({ id: uuidParam() }),
        body: {
          required: false,
          content: {
            "application/json": {
              schema: z.object({ expiresInDays: z.number().int().min(1).max(365).optional() }).strict(),
            },
          },
        },
      },
      responses: {
        201: {
          description: "The link",
          content: {
            "application/json": {
              schema: z.object({ url: z.string(), token: z.string(), expiresAt: z.string().nullable() }),
            },
          },
        },
        ...problemResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const body = c.req.valid("json") ?? {};
      return c.json(await createShare(deps, c.get("subscriber").id, c.req.valid("param").id, body), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/shares/{token}",
      tags: ["subscriber"],
      summary: "Revoke a share link; the page then answers 410",
      security: bearerSecurity,
      request: {
        params: z.object({
          token: z
            .string()
            .min(1)
            .openapi({ param: { name: "token", in: "path" } }),
        }),
      },
      responses: { 204: { description: "Revoked" }, ...problemResponses(401, 404) },
    }),
    async (c) => {
      await revokeShare(deps, c.get("subscriber").id, c.req.valid("param").token);
      return c.body(null, 204);
    },
  );

  const shareListItem = z
    .object({
      token: z.string(),
      url: z.string().openapi({ description: "The public page" }),
      storyId: z.string().uuid(),
      headline: z.string(),
      createdAt: z.string().datetime(),
      expiresAt: z.string().datetime().nullable(),
      revokedAt: z.string().datetime().nullable(),
      status: z.enum(["live", "revoked", "expired"]).openapi({ description: "Whether the page still opens" }),
      views: z.number().int().openapi({ description: "Readers' views (not link previews or crawlers)" }),
    })
    .openapi("ShareLink");
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/shares",
      tags: ["subscriber"],
      summary: "The subscriber's share links, newest first, with their views (revoked and expired included)",
      security: bearerSecurity,
      request: {
        query: z.object({
          cursor: z
            .preprocess(
              blankToUndefined,
              z
                .string()
                .refine((v) => readShareCursor(v) !== undefined, "must be a cursor from a previous page")
                .optional(),
            )
            .openapi({ type: "string", description: "nextCursor of the previous page" }),
          limit: z
            .preprocess(
              blankToUndefined,
              z.coerce.number().int().min(1, "must be 1 to 50").max(50, "must be 1 to 50").default(20),
            )
            .openapi({ type: "integer", minimum: 1, maximum: 50, default: 20 }),
        }),
      },
      responses: {
        200: {
          description: "A page of share links",
          content: {
            "application/json": {
              schema: z
                .object({ items: z.array(shareListItem), nextCursor: z.string().nullable() })
                .openapi("ShareLinkList"),
            },
          },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      return c.json(await listShares(deps, c.get("subscriber").id, { cursor, limit }), 200);
    },
  );

  // The public page: HTML, no JavaScript, nothing about the sharer. Documented, not validated:
  // an odd token is simply not found.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/s/{token}",
    tags: ["public"],
    summary: "The shared story page (HTML, Open Graph and Twitter card tags, no script)",
    request: { params: tokenParam },
    responses: {
      200: htmlAnswer("The story"),
      404: htmlAnswer("No such link (cut short, mistyped): the same kind of page, inviting to sign up"),
      410: htmlAnswer("Revoked or expired: a friendly page inviting to sign up"),
    },
  });
  // Links pasted into chats and documents pick up a closing slash or punctuation ("…/s/TOKEN).",
  // "…/s/TOKEN/"): tokens are letters, digits, "-" and "_" only, so what follows is not the token.
  // Only to what could be a token: the redirect's Location carries nothing else.
  const cleanToken = (raw: string) => {
    const clean = raw.replace(/[^\w-]+$/, "");
    return isShareToken(clean) ? clean : null;
  };
  app.get("/s/:token/", async (c) => {
    const clean = cleanToken(c.req.param("token"));
    if (clean) return c.redirect(`/s/${clean}`, 301);
    return c.html(renderGonePage("unknown", `${deps.config.publicBaseUrl}/signup`), 404, PAGE_HEADERS);
  });
  app.get("/s/:token", async (c) => {
    const signupUrl = `${deps.config.publicBaseUrl}/signup`;
    const given = c.req.param("token");
    const clean = cleanToken(given);
    if (clean && clean !== given) return c.redirect(`/s/${clean}`, 301);
    const userAgent = requestHeader(c, "user-agent");
    const shared = await openShare(deps, given, {
      countView: isReaderView(c.req.method, userAgent),
      recent: recentViews,
      visitor: visitorKey(clientAddress(c), userAgent),
    });
    // Opened by people in a browser: a link that leads nowhere gets a page, not a problem document.
    if (shared.status === "unknown") return c.html(renderGonePage("unknown", signupUrl), 404, PAGE_HEADERS);
    if (shared.status === "gone") {
      return c.html(renderGonePage(shared.reason, signupUrl), 410, PAGE_HEADERS);
    }
    const pageUrl = shareUrl(deps, given);
    return c.html(renderSharePage(shared.story, { pageUrl, signupUrl }), 200, {
      ...PAGE_HEADERS,
      // Revalidated on every view, so a revoked link stops at once, shared caches included; kept out
      // of search engines: a link shared in one conversation is not published to everyone.
      "cache-control": "no-cache",
      "x-robots-tag": "noindex",
    });
  });
  return app;
}
