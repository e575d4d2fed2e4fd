import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { html, raw } from "hono/html";

type Operation = { summary?: string; tags?: string[]; security?: unknown[] };
type Doc = {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
};

/**
 * /docs: Swagger UI (swagger-ui-dist, served from this server: no third-party request) reading
 * /openapi.json, with "try it out" against this server. Without JavaScript the page shows the
 * plain index of every operation instead.
 */
export function renderDocs(doc: Doc) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} API</title><link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png"><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><noscript>${renderIndex(doc)}</noscript>
<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/assets/docs.js"></script></body></html>`;
}

/**
 * The docs page's policy: its scripts and styles from this origin only (Swagger UI sets style
 * attributes, hence 'unsafe-inline' for styles alone), requests to this origin only.
 */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const DOCS_INIT = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
`;

type Asset = { bytes: Uint8Array; type: string };
let assets: Map<string, Asset> | undefined;

/** The docs page's files by name, read from swagger-ui-dist once, on first ask. */
export function docsAsset(name: string): Asset | undefined {
  if (!assets) {
    const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
    const file = (f: string, type: string): Asset => ({ bytes: readFileSync(join(dist, f)), type });
    assets = new Map([
      ["swagger-ui.css", file("swagger-ui.css", "text/css; charset=utf-8")],
      ["swagger-ui-bundle.js", file("swagger-ui-bundle.js", "text/javascript; charset=utf-8")],
      ["favicon-32x32.png", file("favicon-32x32.png", "image/png")],
      ["docs.js", { bytes: Buffer.from(DOCS_INIT), type: "text/javascript; charset=utf-8" }],
    ]);
  }
  return assets.get(name);
}

/** A plain HTML index of the OpenAPI document: every path, method and summary, grouped by tag. */
function renderIndex(doc: Doc) {
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
  const tags = [...new Set(ops.map((o) => o.op.tags?.[0] ?? "other"))];
  return html`<style>${raw(`.index{font:15px/1.5 -apple-system,"Segoe UI",Roboto,sans-serif;max-width:860px;margin:0 auto;padding:24px;color:#1d232b}
.index code{background:#f0eee9;padding:2px 6px;border-radius:4px}.index .m{display:inline-block;width:64px;font-weight:700}.index td{padding:4px 8px;vertical-align:top}`)}</style>
<main class="index"><h1>${doc.info.title} API <small>${doc.info.version}</small></h1>
<p>The machine-readable contract is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are RFC 9457 problem documents.</p>
${tags.map(
  (tag) =>
    html`<h2>${tag}</h2><table>${ops
      .filter((o) => (o.op.tags?.[0] ?? "other") === tag)
      .map(
        (o) =>
          html`<tr><td class="m">${o.method}</td><td><code>${o.path}</code></td><td>${o.op.summary ?? ""}${o.op.security ? " (bearer token)" : ""}</td></tr>`,
      )}</table>`,
)}</main>`;
}
