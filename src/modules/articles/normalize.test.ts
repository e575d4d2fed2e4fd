import { describe, expect, it } from "vitest";
import { parseFeed } from "./feed.parser.ts";
import { normalizeEntry } from "./normalize.ts";

const ctx = {
  feedUrl: "https://x.example/feed",
  outlet: "X",
  language: "en",
  now: new Date("2026-11-27T06:00:00Z"),
};
const entry = (title: string, body: string) => ({
  guid: null,
  url: "https://x.example/a",
  title,
  body,
  author: null,
  publishedAt: null,
  categories: [],
});

describe("normalizeEntry", () => {
  it("caps a runaway headline and text from a broken or hostile feed", () => {
    const r = normalizeEntry(entry("Long ".repeat(100_000), "word ".repeat(100_000)), ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.article.title.length).toBe(1_000);
    expect(r.article.content.length).toBe(200_000);
  });
});

describe("what feeds add to an item", () => {
  const article = (title: string, body: string) => {
    const r = normalizeEntry(entry(title, body), ctx);
    if (!r.ok) throw new Error(r.reason);
    return r.article;
  };
  const story =
    "<p>The port of Rotterdam closed two terminals on Thursday as dockworkers walked out over pay.</p>" +
    "<p>Shipping lines said they would divert vessels to Hamburg.</p>";

  it("drops WordPress' 'appeared first on', read-more links, excerpt marks, share and related lines", () => {
    for (const tail of [
      '<p>The post <a href="https://x.example/a">Port strike</a> appeared first on <a href="https://x.example">X News</a>.</p>',
      '<p><a href="https://x.example/a">Read more</a></p>',
      "<p>Continue reading...</p>",
      '<p><a href="https://x.example/a">Read more »</a></p>',
      "<p>Share on Facebook | Share on Twitter | Email</p>",
      "<p>Related: Other story one</p>",
      " [&#8230;]",
      ' <a href="https://x.example/a">Read more</a>',
    ]) {
      expect(article("Port strike", story + tail).content).toBe(
        "The port of Rotterdam closed two terminals on Thursday as dockworkers walked out over pay.\n\n" +
          "Shipping lines said they would divert vessels to Hamburg.",
      );
    }
  });

  it("keeps the article's own sentences that mention reading or sharing", () => {
    const own =
      "<p>Read more than 200 pages of the ruling and you find the court split on the question of pay.</p>";
    expect(article("Ruling", own).content).toContain("Read more than 200 pages");
    for (const text of [
      "Officials said the outbreak could spread more…",
      "Staff said they were told to keep reading",
      "Smith took the post in 2019. Her name appeared first on the shortlist",
      "Email and share buttons were removed from the site in March, the company said.",
    ])
      expect(article("Story", `<p>${text}</p>`).content).toBe(text);
  });

  it("reads a long line of share words at once (a regex over them backtracked for minutes)", () => {
    const started = performance.now();
    expect(article("Story", `${story}<p>${"share email ".repeat(58)}done</p>`).content).toContain("done");
    expect(article("Story", `${story}<p>${"Share email ".repeat(8)}</p>`).content).not.toContain("Share");
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("decodes text a feed escaped twice", () => {
    const a = article(
      "Triple escaped &amp;quot;body&amp;quot;",
      "&lt;p&gt;DOUBLE &amp;amp; escaped&lt;/p&gt;&lt;p&gt;Second&lt;/p&gt;",
    );
    expect(a.title).toBe('Triple escaped "body"');
    expect(a.content).toBe("DOUBLE & escaped\n\nSecond");
    expect(article("x < y in the index", "Plain text where a < b stays as written.").content).toBe(
      "Plain text where a < b stays as written.",
    );
    // Escaped tags inside markup are the article's text about tags.
    expect(
      article("Tags", "<p>Browsers still render &lt;p&gt; and &lt;br&gt; the old way.</p>").content,
    ).toBe("Browsers still render <p> and <br> the old way.");
  });

  it("makes a headline from the first sentence when the title is empty or only symbols", () => {
    const body =
      "Dockworkers in Rotterdam and Antwerp walked out on Thursday over pay and working hours, closing two terminals. Talks resume Monday.";
    for (const title of ["", "   ", "🔥"]) {
      const { title: headline } = article(title, body);
      expect(headline.endsWith("…")).toBe(true);
      expect(headline.length).toBeLessThanOrEqual(100);
      expect(body.startsWith(headline.slice(0, -1))).toBe(true);
    }
    expect(article("", "Talks resume Monday. Nothing else.").title).toBe("Talks resume Monday.");
  });
});

describe("Atom text constructs", () => {
  it("keeps what plain text (the default type) says, and reads type html as markup", () => {
    const feed =
      parseFeed(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom &lt;Weekly&gt;</title>
<entry><id>1</id><link href="https://atom.example/1"/><title type="text">The &lt;canvas&gt; element and x &lt; y</title>
<content type="text">Text about AT&amp;T and the &lt;canvas&gt; element, as the spec writes it.</content></entry>
<entry><id>2</id><link href="https://atom.example/2"/><title type="html">An &lt;em&gt;html&lt;/em&gt; title</title>
<summary>&lt;p&gt;A summary whose generator left out type="html".&lt;/p&gt;</summary></entry></feed>`);
    expect(feed.title).toBe("Atom &lt;Weekly&gt;");
    const [text, html] = feed.entries.map((e) => {
      const r = normalizeEntry(e, ctx);
      if (!r.ok) throw new Error(r.reason);
      return r.article;
    });
    expect(text!.title).toBe("The <canvas> element and x < y");
    expect(text!.content).toBe("Text about AT&T and the <canvas> element, as the spec writes it.");
    expect(html!.title).toBe("An html title");
    expect(html!.content).toBe('A summary whose generator left out type="html".');
  });
});

describe("plain text", () => {
  it("keeps '<' and '&' as the text's own where a field is known to be plain text", () => {
    const body =
      "Acme said profits rose by <10% while costs fell and x<y held. AT&T said a<b; &notanentity; stays.";
    const r = normalizeEntry(
      { ...entry("Plain <b> stays text: 5 < 6", body), titleIsText: true, bodyIsText: true },
      ctx,
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.article.title).toBe("Plain <b> stays text: 5 < 6");
    expect(r.article.content).toBe(body);
  });

  it("reads an Atom title of explicit type text as plain text", () => {
    const feed = parseFeed(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><id>1</id><link href="https://atom.example/1"/><title type="text">Plain &lt;b&gt; stays text: 5 &lt; 6</title>
<content type="text">Body text.</content></entry></feed>`);
    const r = normalizeEntry(feed.entries[0]!, ctx);
    if (!r.ok) throw new Error(r.reason);
    expect(r.article.title).toBe("Plain <b> stays text: 5 < 6");
  });
});

describe("publication dates", () => {
  it("takes the fetch time for a placeholder date (1900-01-01, the Unix epoch) or one before, keeps a real one", () => {
    const at = (iso: string) => {
      const r = normalizeEntry({ ...entry("Title", "Body text."), publishedAt: new Date(iso) }, ctx);
      if (!r.ok) throw new Error(r.reason);
      return r.article.publishedAt.toISOString();
    };
    for (const placeholder of ["1900-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1899-12-31T00:00:00Z"])
      expect(at(placeholder), placeholder).toBe(ctx.now.toISOString());
    expect(at("2026-11-26T08:00:00Z")).toBe("2026-11-26T08:00:00.000Z");
  });
});
