import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../lib/errors.ts";
import { emailSchema } from "../../lib/field-schemas.ts";
import {
  type AppEnv,
  adminAuth,
  bearerToken,
  createRouter,
  problemResponses,
  spendOrRefuse,
} from "../../lib/http.ts";
import {
  createdSubscriberSchema,
  profilePatchSchema,
  profileSchema,
  subscriberInputSchema,
  tokenIdParamSchema,
  tokenListSchema,
} from "./profiles.schemas.ts";
import {
  createSubscriber,
  getSubscriber,
  type Subscriber,
  toProfileView,
  updateProfile,
} from "./profiles.service.ts";
import { requestSignIn, signInTries, verifySignIn } from "./signin.service.ts";
import { authenticateToken, listTokens, revokeToken } from "./tokens.service.ts";

export type SubscriberEnv = {
  Variables: AppEnv["Variables"] & { subscriber: Subscriber; tokenId: string };
};

/**
 * Subscriber routes: the bearer token names the subscriber; everything they read is theirs.
 * Mounted once for all of /v1 by createApp; route modules read `c.get("subscriber")`.
 */
export function subscriberAuth(deps: Pick<Deps, "db" | "clock">): MiddlewareHandler<SubscriberEnv> {
  return async (c, next) => {
    const token = bearerToken(c);
    if (!token) throw new AppError("UNAUTHORIZED", "a subscriber bearer token is required");
    // Without an await when the token is in memory: a cached read is the app's most common request.
    const found = authenticateToken(deps, token);
    const { subscriber, tokenId } = found instanceof Promise ? await found : found;
    c.set("subscriber", subscriber);
    c.set("tokenId", tokenId);
    await next();
  };
}

export const bearerSecurity = [{ bearer: [] }];

export function createProfileRoutes(deps: Deps) {
  const app = createRouter<SubscriberEnv>();
  const tries = signInTries(deps.clock);
  if (deps.config.ADMIN_TOKEN) {
    app.use("/admin/subscribers", adminAuth(deps.config.ADMIN_TOKEN));
    app.openapi(
      createRoute({
        method: "post",
        path: "/admin/subscribers",
        tags: ["admin"],
        summary: "Create a subscriber and issue their API token (shown once)",
        security: bearerSecurity,
        request: {
          body: { required: true, content: { "application/json": { schema: subscriberInputSchema } } },
        },
        responses: {
          201: {
            description: "Created",
            content: { "application/json": { schema: createdSubscriberSchema } },
          },
          ...problemResponses(400, 401, 409),
        },
      }),
      async (c) => {
        const { subscriber, token } = await createSubscriber(deps, c.req.valid("json"));
        return c.json({ ...toProfileView(subscriber), token }, 201);
      },
    );
  }

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/email",
      tags: ["auth"],
      summary: "Email a single-use sign-in code (same answer whether or not the address is known)",
      request: {
        body: {
          required: true,
          content: {
            "application/json": { schema: z.object({ email: emailSchema }).strict() },
          },
        },
      },
      responses: {
        202: {
          description: "Sent if the address is subscribed",
          content: { "application/json": { schema: z.object({ status: z.literal("sent") }) } },
        },
        ...problemResponses(400),
      },
    }),
    async (c) => {
      await requestSignIn(deps, c.req.valid("json").email);
      return c.json({ status: "sent" as const }, 202);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/verify",
      tags: ["auth"],
      summary: "Exchange the emailed code for an API token",
      request: {
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z
                .object({
                  email: emailSchema,
                  code: z.string().trim().min(6).max(20),
                })
                .strict(),
            },
          },
        },
      },
      responses: {
        200: {
          description: "A new token, shown once",
          content: {
            "application/json": { schema: z.object({ token: z.string(), subscriberId: z.string() }) },
          },
        },
        ...problemResponses(400, 401, 429),
      },
    }),
    async (c) => {
      const { email, code } = c.req.valid("json");
      spendOrRefuse(c, tries, email.toLowerCase(), "this address");
      return c.json(await verifySignIn(deps, email, code), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/me",
      tags: ["subscriber"],
      summary: "The subscriber's profile",
      security: bearerSecurity,
      responses: {
        200: { description: "Profile", content: { "application/json": { schema: profileSchema } } },
        ...problemResponses(401),
      },
    }),
    // Read fresh: the authenticated subscriber may come from the short-lived auth cache.
    async (c) => c.json(toProfileView(await getSubscriber(deps, c.get("subscriber").id)), 200),
  );
  app.openapi(
    createRoute({
      method: "patch",
      path: "/v1/me",
      tags: ["subscriber"],
      summary: "Update the profile; changes apply to the next briefing",
      security: bearerSecurity,
      request: { body: { required: true, content: { "application/json": { schema: profilePatchSchema } } } },
      responses: {
        200: { description: "Updated profile", content: { "application/json": { schema: profileSchema } } },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const updated = await updateProfile(deps, c.get("subscriber").id, c.req.valid("json"));
      return c.json(toProfileView(updated), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/tokens",
      tags: ["subscriber"],
      summary: "The subscriber's live API tokens (never the secret), newest first",
      security: bearerSecurity,
      responses: {
        200: { description: "Tokens", content: { "application/json": { schema: tokenListSchema } } },
        ...problemResponses(401),
      },
    }),
    async (c) => c.json({ tokens: await listTokens(deps, c.get("subscriber").id, c.get("tokenId")) }, 200),
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/tokens/{id}",
      tags: ["subscriber"],
      summary: "Revoke a token (a lost phone); it answers 401 from then on",
      security: bearerSecurity,
      request: { params: tokenIdParamSchema },
      responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401, 404) },
    }),
    async (c) => {
      await revokeToken(deps, c.get("subscriber").id, c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
  return app;
}
