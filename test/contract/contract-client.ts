import Ajv2020 from "ajv/dist/2020.js";
import createClient from "openapi-fetch";
import type { paths } from "./api-types.d.ts";

type Doc = {
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>
  >;
};
type Fetchable = { request(input: Request): Response | Promise<Response> };

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

/**
 * Checks each answer against the OpenAPI document it claims to follow: the status is one the
 * operation documents, and a JSON body validates against that status's schema (JSON Schema 2020-12,
 * as OpenAPI 3.1 defines it). Returns what was wrong, or nothing.
 */
export function createResponseChecker(doc: Doc) {
  const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false, allErrors: true });
  ajv.addFormat("uuid", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat("email", /^[^@\s]+@[^@\s]+$/);
  ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));
  ajv.addSchema(doc as object, "openapi.json");
  const routes = Object.keys(doc.paths).map((template) => ({
    template,
    re: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }));
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();

  return async function check(method: string, path: string, res: Response): Promise<string[]> {
    const route = routes.find((r) => r.re.test(path));
    if (!route) return [`${method} ${path} is not in the document`];
    const op = doc.paths[route.template]![method.toLowerCase()];
    if (!op) return [`${method} ${route.template} is not in the document`];
    const status = String(res.status);
    const declared = op.responses?.[status];
    if (!declared) return [`${method} ${route.template} answered ${status}, which it does not document`];
    const type = res.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
    if (res.status === 204 || res.status === 304) return [];
    if (!declared.content?.[type]) {
      return [
        `${method} ${route.template} ${status} answered ${type}, documented ${Object.keys(declared.content ?? {})}`,
      ];
    }
    if (!type.endsWith("json")) return [];
    const ref = `openapi.json#/${pointer("paths", route.template, method.toLowerCase(), "responses", status, "content", type, "schema")}`;
    let validate = validators.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: ref });
      validators.set(ref, validate);
    }
    if (validate(await res.clone().json())) return [];
    return (validate.errors ?? []).map(
      (e) => `${method} ${route.template} ${status}: ${e.instancePath} ${e.message}`,
    );
  };
}

/**
 * The typed client the app would use (openapi-fetch over the generated types), sending each request
 * to the Hono app in process and recording every way an answer strays from the document.
 */
export function createContractClient(app: Fetchable, doc: Doc) {
  const check = createResponseChecker(doc);
  const violations: string[] = [];
  const client = createClient<paths>({
    baseUrl: "http://localhost:3000",
    fetch: async (req: Request) => {
      const res = await app.request(req);
      violations.push(...(await check(req.method, new URL(req.url).pathname, res)));
      return res;
    },
  });
  return { client, violations };
}
