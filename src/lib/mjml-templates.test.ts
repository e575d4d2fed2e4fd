import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMjmlTemplate, escapeHtml } from "./mjml-templates.ts";

describe("escapeHtml", () => {
  it("escapes what HTML text and quoted attributes need, and leaves the rest as written", () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;",
    );
    expect(escapeHtml("https://outlet.example/a/b?c=1")).toBe("https://outlet.example/a/b?c=1");
    expect(escapeHtml(7)).toBe("7");
  });
});

describe("compiled MJML templates", () => {
  it("fill sections and escaped values per view, from one compile", async () => {
    const dir = mkdtempSync(join(tmpdir(), "daybreak-mjml-"));
    writeFileSync(
      join(dir, "t.mjml"),
      `<mjml><mj-body>
        <mj-raw>{{#items}}</mj-raw>
        <mj-section><mj-column><mj-text><a href="{{url}}">{{title}}</a> #{{n}}</mj-text></mj-column></mj-section>
        <mj-raw>{{/items}}</mj-raw>
        <mj-raw>{{^items}}</mj-raw>
        <mj-section><mj-column><mj-text>Nothing today</mj-text></mj-column></mj-section>
        <mj-raw>{{/items}}</mj-raw>
      </mj-body></mjml>`,
    );
    const t = await compileMjmlTemplate(dir, "t");
    const html = t.render({
      items: [
        { url: `https://x.example/?a=1&b="2"`, title: "<b>bold</b>", n: 1 },
        { url: "https://x.example/2", title: "plain", n: 2 },
      ],
    });
    expect(html).toContain(
      `<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">&lt;b&gt;bold&lt;/b&gt;</a> #1`,
    );
    expect(html).toContain(`<a href="https://x.example/2">plain</a> #2`);
    expect(html).not.toContain("Nothing today");
    expect(t.render({ items: [] })).toContain("Nothing today");
  });
});
