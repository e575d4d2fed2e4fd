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
  const html = result.html;
  Mustache.parse(html);
  return { name, html, render: (view) => Mustache.render(html, view) };
}

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
