import { createHash } from "node:crypto";
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { html, raw } from "hono/html";

/**
 * Daybreak's public HTML pages (shared stories, sign-up, unsubscribe, preferences): no
 * script, no third-party request, inline styles only. One policy and one shell for all of them,
 * and one way of describing them in the OpenAPI document (at the end of this file).
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const PAGE_HEADERS = {
  "content-security-policy": PAGE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * Headers for a page that adds one small inline script (progressive enhancement only: the page
 * works without it). The CSP allows exactly that script by its hash, nothing else.
 */
export function pageHeadersWithScript(script: string) {
  const hash = createHash("sha256").update(script).digest("base64");
  return { ...PAGE_HEADERS, "content-security-policy": `${PAGE_CSP}; script-src 'sha256-${hash}'` };
}

const BASE_STYLE = `
  :root { color-scheme: light dark; }
  body { margin: 0; font: 17px/1.55 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; background: #f6f5f2; color: #1d232b; }
  main { max-width: 620px; margin: 0 auto; padding: 24px 20px 48px; overflow-wrap: anywhere; }
  .brand { font-size: 13px; letter-spacing: 1px; text-transform: uppercase; color: #5b6470; }
  a { color: #1a5fb4; }
  label { display: block; margin: 14px 0 4px; font-weight: 600; }
  input, select, textarea { width: 100%; box-sizing: border-box; padding: 10px; font-size: 16px; font-family: inherit; border: 1px solid #c9c6bf; border-radius: 8px; }
  button { margin-top: 20px; padding: 12px 20px; font-size: 16px; background: #1a5fb4; color: #fff; border: 0; border-radius: 8px; font-weight: 600; }
  .error { color: #a4262c; } .ok { color: #1e6b34; } .hint { color: #5b6470; font-size: 14px; }
  @media (prefers-color-scheme: dark) {
    body { background: #111418; color: #e6e9ee; } a { color: #8ab4f8; }
    input, select, textarea { background: #1b2027; color: #e6e9ee; border-color: #39414c; }
    .brand, .hint { color: #9aa3ad; } .error { color: #ff8a80; } .ok { color: #7ddc97; }
  }`;

/** The page shell; `head` adds page-specific meta tags, `style` page-specific rules. */
export function htmlPage(
  title: string,
  body: unknown,
  opts: { head?: unknown; style?: string; script?: string } = {},
) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title} · Daybreak</title>
${opts.head ?? ""}
<style>${raw(BASE_STYLE + (opts.style ?? ""))}</style>
</head>
<body><main><div class="brand">Daybreak</div>${body}</main>${opts.script ? html`<script>${raw(opts.script)}</script>` : ""}</body>
</html>`;
}

/** OpenAPI: an HTML page answered (the pages people open from emails and shared links). */
export const htmlAnswer = (description: string) => ({
  description,
  content: { "text/html": { schema: z.string() } },
});

/** OpenAPI: a `{token}` path parameter, documented and not validated (an odd one is not found). */
export const tokenParam = z.object({ token: z.string().openapi({ param: { name: "token", in: "path" } }) });

/**
 * Documents a public page opened from a signed `{token}` link in an email (the routes are plain
 * Hono routes: a bad token gets a page, not a validation error). Each answer is an HTML page
 * described by its text, but a redirect (3xx), which has no page.
 */
export function documentLinkPage(
  app: Pick<OpenAPIHono, "openAPIRegistry">,
  method: "get" | "post",
  path: string,
  summary: string,
  answers: Record<number, string>,
) {
  app.openAPIRegistry.registerPath({
    method,
    path,
    tags: ["public"],
    summary,
    request: { params: tokenParam },
    responses: Object.fromEntries(
      Object.entries(answers).map(([status, description]) => [
        status,
        status.startsWith("3") ? { description } : htmlAnswer(description),
      ]),
    ),
  });
}
