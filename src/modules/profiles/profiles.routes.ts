import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../lib/errors.ts";
import { type AppEnv, adminAuth, bearerToken, createRouter, problemResponses } from "../../lib/http.ts";
import {
  createdSubscriberSchema,
  profilePatchSchema,
  profileSchema,
  subscriberInputSchema,
} from "./profiles.schemas.ts";
import {
  authenticate,
  createSubscriber,
  type Subscriber,
  toProfileView,
  updateProfile,
} from "./profiles.service.ts";

export type SubscriberEnv = { Variables: AppEnv["Variables"] & { subscriber: Subscriber } };

/** Subscriber routes: the bearer token names the subscriber; everything they read is theirs. */
export function subscriberAuth(deps: Pick<Deps, "db">): MiddlewareHandler<SubscriberEnv> {
  return async (c, next) => {
    const token = bearerToken(c);
    if (!token) throw new AppError("UNAUTHORIZED", "a subscriber bearer token is required");
    c.set("subscriber", await authenticate(deps, token));
    await next();
  };
}

export const bearerSecurity = [{ bearer: [] }];

export function createProfileRoutes(deps: Deps) {
  const app = createRouter<SubscriberEnv>();
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

  app.use("/v1/me", subscriberAuth(deps));
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
    (c) => c.json(toProfileView(c.get("subscriber")), 200),
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
  return app;
}
