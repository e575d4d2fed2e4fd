import { html, raw } from "hono/html";

type Operation = { summary?: string; tags?: string[]; security?: unknown[] };
type Doc = {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
};

/** A plain HTML index of the OpenAPI document: every path, method and summary, grouped by tag. */
export function renderDocs(doc: Doc) {
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
  const tags = [...new Set(ops.map((o) => o.op.tags?.[0] ?? "other"))];
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} API</title><style>${raw(`body{font:15px/1.5 -apple-system,"Segoe UI",Roboto,sans-serif;max-width:860px;margin:0 auto;padding:24px;color:#1d232b}
code{background:#f0eee9;padding:2px 6px;border-radius:4px}.m{display:inline-block;width:64px;font-weight:700}td{padding:4px 8px;vertical-align:top}`)}</style></head>
<body><h1>${doc.info.title} API <small>${doc.info.version}</small></h1>
<p>The machine-readable contract is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are RFC 9457 problem documents.</p>
${tags.map(
  (tag) =>
    html`<h2>${tag}</h2><table>${ops
      .filter((o) => (o.op.tags?.[0] ?? "other") === tag)
      .map(
        (o) =>
          html`<tr><td class="m">${o.method}</td><td><code>${o.path}</code></td><td>${o.op.summary ?? ""}${o.op.security ? " (bearer token)" : ""}</td></tr>`,
      )}</table>`,
)}
</body></html>`;
}
