import { readFile } from "node:fs/promises";
import { join } from "node:path";
import Mustache from "mustache";

/**
 * MJML is compiled once per template (about 12 ms each); what varies per subscriber is filled
 * into the compiled HTML by Mustache, which HTML-escapes every value.
 */
export type CompiledTemplate = { name: string; html: string; render(view: object): string };

export async function compileMjmlTemplate(templatesDir: string, name: string): Promise<CompiledTemplate> {
  const filePath = join(templatesDir, `${name}.mjml`);
  const source = await readFile(filePath, "utf8");
  // Loaded on first compile: MJML and its dependencies cost ~50 MB of memory, which processes
  // that never render an email (API-only, build-only workers) do not pay.
  const { default: mjml2html } = await import("mjml");
  const result = await mjml2html(source, {
    filePath,
    includePath: templatesDir,
    ignoreIncludes: false,
    validationLevel: "strict",
  });
  // The indentation between tags goes: repeated per story, it was a tenth of a briefing's HTML,
  // and Gmail clips a message over ~102 KB (hiding the footer's unsubscribe). Only runs of
  // whitespace between two tags: text, and spaces beside template tags, stay as written.
  const html = result.html.replace(/>\s+</g, "><");
  // Parsed once and rendered from the tokens: Mustache.render looks its parse cache up by the
  // whole template (a 50 KB key hashed per email, measured ~20% of a fill).
  // (@types/mustache types parse's result and renderTokens' input apart; they are the same arrays.)
  const tokens = Mustache.parse(html) as unknown as Parameters<Mustache.Writer["renderTokens"]>[0];
  const writer = new Mustache.Writer();
  return {
    name,
    html,
    render: (view) => writer.renderTokens(tokens, new Mustache.Context(view), undefined, html, ESCAPE),
  };
}

const HTML_SPECIAL = /[&<>"']/;
const HTML_SPECIALS = /[&<>"']/g;
const ENTITY: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes a value for HTML text and quoted attributes (every attribute MJML writes is quoted):
 * & < > " '. Mustache's own escape also rewrites / ` and =, which matter only in unquoted
 * attributes, and so rewrote every URL of an email; most values need nothing and are returned as
 * they are.
 */
export function escapeHtml(value: unknown): string {
  const s = String(value);
  return HTML_SPECIAL.test(s) ? s.replace(HTML_SPECIALS, (ch) => ENTITY[ch]!) : s;
}

const ESCAPE = { escape: escapeHtml };

/** Compiles each template on first use and keeps it for the life of the process. */
export type TemplateStore = { get(name: string): Promise<CompiledTemplate> };

export function createTemplateStore(templatesDir: string): TemplateStore {
  const compiled = new Map<string, Promise<CompiledTemplate>>();
  return {
    get(name) {
      let t = compiled.get(name);
      if (!t) {
        t = compileMjmlTemplate(templatesDir, name);
        // A failed compile is not cached: fixing the file and retrying must work.
        t.catch(() => compiled.delete(name));
        compiled.set(name, t);
      }
      return t;
    },
  };
}
