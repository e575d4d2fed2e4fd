import { createRoute, z } from "@hono/zod-openapi";
import type { Deps } from "../../deps.ts";
import { adminAuth, createRouter, problemResponses } from "../../lib/http.ts";
import { sourceInputSchema, sourceSchema } from "./sources.schemas.ts";
import { addSource, listSources, toSourceView } from "./sources.service.ts";

/** Admin: the feeds Daybreak reads, and their health. */
export function createSourceRoutes(deps: Deps) {
  const app = createRouter();
  if (!deps.config.ADMIN_TOKEN) return app;
  app.use("/admin/sources", adminAuth(deps.config.ADMIN_TOKEN));
  const security = [{ bearer: [] }];
  app.openapi(
    createRoute({
      method: "post",
      path: "/admin/sources",
      tags: ["admin"],
      summary: "Register a feed",
      security,
      request: { body: { required: true, content: { "application/json": { schema: sourceInputSchema } } } },
      responses: {
        201: { description: "Created", content: { "application/json": { schema: sourceSchema } } },
        ...problemResponses(400, 401, 409),
      },
    }),
    async (c) => c.json(toSourceView(await addSource(deps, c.req.valid("json"))), 201),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/admin/sources",
      tags: ["admin"],
      summary: "Every source with its fetch health",
      security,
      responses: {
        200: {
          description: "Sources",
          content: { "application/json": { schema: z.object({ sources: z.array(sourceSchema) }) } },
        },
        ...problemResponses(401),
      },
    }),
    async (c) => c.json({ sources: (await listSources(deps)).map(toSourceView) }, 200),
  );
  return app;
}
