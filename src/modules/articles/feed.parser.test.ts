import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeBody, parseFeed } from "./feed.parser.ts";

const rss = (items: string, channel = "<link>https://news.example.com/</link>") =>
  `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Example News</title>${channel}<language>en-gb</language>${items}</channel></rss>`;

const item = (fields: Record<string, string>) =>
  `<item>${Object.entries(fields)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join("")}</item>`;

/** Latin-1 bytes of a string, with the few windows-1252 extras it may use. */
function cp1252(text: string): Buffer {
  const extra: Record<string, number> = { "€": 0x80, "“": 0x93, "”": 0x94, "’": 0x92, "—": 0x97 };
  return Buffer.from([...text].map((ch) => extra[ch] ?? ch.charCodeAt(0)));
}

describe("feed formats", () => {
  it("reads an RSS 2.0 item: guid, link, title, the fuller body, author, date and categories", () => {
    const feed = parseFeed(
      rss(
        item({
          guid: "urn:example:1",
          link: "https://news.example.com/a",
          title: "Port strike ends",
          description: "Short.",
          "content:encoded": "<![CDATA[<p>The longer body of the article.</p>]]>",
          "dc:creator": "A. Writer",
          pubDate: "Fri, 27 Nov 2026 05:00:00 GMT",
          category: "Shipping",
        }),
      ),
    );
    expect(feed).toMatchObject({
      title: "Example News",
      language: "en-gb",
      url: "https://news.example.com/",
    });
    expect(feed.entries).toEqual([
      {
        guid: "urn:example:1",
        url: "https://news.example.com/a",
        title: "Port strike ends",
        body: "<p>The longer body of the article.</p>",
        author: "A. Writer",
        publishedAt: new Date("2026-11-27T05:00:00Z"),
        categories: ["Shipping"],
      },
    ]);
  });

  it("reads an RSS 1.0 (RDF) item with its Dublin Core date", () => {
    const feed = parseFeed(`<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example.com/"><title>RDF News</title><link>https://rdf.example.com/</link></channel>
<item rdf:about="https://rdf.example.com/1"><title>One</title><link>https://rdf.example.com/1</link>
<description>First item.</description><dc:date>2026-11-26T08:30:00Z</dc:date><dc:creator>R. Dee</dc:creator></item>
</rdf:RDF>`);
    expect(feed.title).toBe("RDF News");
    expect(feed.entries[0]).toMatchObject({
      url: "https://rdf.example.com/1",
      title: "One",
      author: "R. Dee",
      publishedAt: new Date("2026-11-26T08:30:00Z"),
    });
  });

  it("reads an Atom entry: id, alternate link, content over summary, published date", () => {
    const feed = parseFeed(`<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title>
<link rel="alternate" href="https://atom.example.com/"/><link rel="self" href="https://atom.example.com/feed"/>
<author><name>Desk</name></author>
<entry><id>tag:atom.example.com,2026:1</id><title>Rates held</title>
<link rel="alternate" href="https://atom.example.com/rates"/><summary>Short</summary>
<content type="html">&lt;p&gt;Central bank holds rates at 4%.&lt;/p&gt;</content>
<published>2026-11-26T07:00:00Z</published><updated>2026-11-26T09:00:00Z</updated></entry></feed>`);
    expect(feed.url).toBe("https://atom.example.com/");
    expect(feed.entries[0]).toMatchObject({
      guid: "tag:atom.example.com,2026:1",
      url: "https://atom.example.com/rates",
      body: "<p>Central bank holds rates at 4%.</p>",
      author: "Desk",
      publishedAt: new Date("2026-11-26T07:00:00Z"),
    });
  });

  it("reads a JSON Feed item", () => {
    const feed = parseFeed(
      JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        title: "JSON News",
        home_page_url: "https://json.example.com/",
        items: [
          {
            id: 7,
            url: "https://json.example.com/7",
            title: "Seven",
            content_text: "Body.",
            date_published: "2026-11-25T10:00:00Z",
            authors: [{ name: "J. Son" }],
            tags: ["x"],
          },
        ],
      }),
    );
    expect(feed.entries[0]).toEqual({
      guid: "7",
      url: "https://json.example.com/7",
      title: "Seven",
      body: "Body.",
      bodyIsText: true,
      author: "J. Son",
      publishedAt: new Date("2026-11-25T10:00:00Z"),
      categories: ["x"],
    });
  });

  it("reads a JSON Feed whose empty fields are null, leaving out only an item it cannot read", () => {
    const feed = parseFeed(
      JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        title: null,
        home_page_url: "https://json.example.com/",
        items: [
          {
            id: "1",
            url: "https://json.example.com/1",
            title: null,
            content_text: "One.",
            tags: ["a", 2026, null],
          },
          { title: "no id, so not an item" },
          {
            id: "3",
            external_url: "https://elsewhere.example/3",
            title: "Three",
            summary: null,
            content_html: "<p>Three.</p>",
          },
        ],
      }),
    );
    expect(feed.title).toBeNull();
    expect(feed.entries.map((e) => [e.guid, e.url, e.title, e.body, e.categories])).toEqual([
      ["1", "https://json.example.com/1", null, "One.", ["a", "2026"]],
      ["3", "https://elsewhere.example/3", "Three", "<p>Three.</p>", []],
    ]);
  });

  it("reads an item's text from Media RSS, Dublin Core or iTunes when it has no description", () => {
    const feed = parseFeed(
      rss(
        `<item><title>A</title><link>https://news.example.com/a</link><media:description>Text on the item.</media:description></item>
<item><title>B</title><link>https://news.example.com/b</link><media:group><media:description>Text in a group.</media:description></media:group></item>
<item><title>C</title><link>https://news.example.com/c</link><dc:description>Dublin Core text.</dc:description></item>
<item><title>D</title><link>https://news.example.com/d</link><description>The description wins.</description><itunes:summary>Not this.</itunes:summary></item>`,
      ).replace(
        '<rss version="2.0"',
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"',
      ),
    );
    expect(feed.entries.map((e) => e.body)).toEqual([
      "Text on the item.",
      "Text in a group.",
      "Dublin Core text.",
      "The description wins.",
    ]);
  });

  it("names the field when a JSON Feed is invalid", () => {
    const doc = JSON.stringify({ version: "https://jsonfeed.org/version/1.1", items: [{ title: "no id" }] });
    expect(() => parseFeed(doc)).toThrow(/^not a feed: bad JSON Feed \(items\.0\.id: /);
  });
});

describe("encodings", () => {
  const latinFeed = (decl: string) =>
    Buffer.concat([
      Buffer.from(`<?xml version="1.0"${decl}?><rss version="2.0"><channel><title>`),
      Buffer.from("Café Zürich", "latin1"),
      Buffer.from("</title><item><title>"),
      Buffer.from("Noël à Montréal", "latin1"),
      Buffer.from("</title><link>https://x.example/1</link></item></channel></rss>"),
    ]);

  it("decodes ISO-8859-1 declared in the XML prolog", () => {
    const feed = parseFeed(decodeBody(latinFeed(' encoding="ISO-8859-1"'), "application/rss+xml"));
    expect(feed.title).toBe("Café Zürich");
    expect(feed.entries[0]!.title).toBe("Noël à Montréal");
  });

  it("decodes ISO-8859-1 named only by the Content-Type charset", () => {
    const feed = parseFeed(decodeBody(latinFeed(""), "text/xml; charset=ISO-8859-1"));
    expect(feed.title).toBe("Café Zürich");
  });

  const cp1252Feed = (decl: string) =>
    Buffer.concat([
      Buffer.from(`<?xml version="1.0"${decl}?><rss version="2.0"><channel><title>t</title><item><title>`),
      cp1252("“Prices” rose to 4 € — they’re up"),
      Buffer.from("</title><link>https://x.example/1</link></item></channel></rss>"),
    ]);

  it("decodes windows-1252 smart quotes and the euro sign declared in the XML prolog", () => {
    const feed = parseFeed(decodeBody(cp1252Feed(' encoding="windows-1252"'), null));
    expect(feed.entries[0]!.title).toBe("“Prices” rose to 4 € — they’re up");
  });

  it("decodes windows-1252 named by the Content-Type charset", () => {
    const feed = parseFeed(decodeBody(cp1252Feed(""), 'application/rss+xml; charset="windows-1252"'));
    expect(feed.entries[0]!.title).toBe("“Prices” rose to 4 € — they’re up");
  });

  it("reads windows-1252 bytes as such when the header wrongly claims UTF-8", () => {
    const text = decodeBody(cp1252Feed(""), "application/xml; charset=utf-8");
    expect(text).toContain("“Prices” rose to 4 €");
    expect(text).not.toContain("\uFFFD");
  });

  it("reads UTF-8 when a Latin-1 header contradicts a document declaring and being UTF-8", () => {
    const body = Buffer.from('<?xml version="1.0" encoding="utf-8"?><rss><channel><title>Café</title>');
    expect(decodeBody(body, "text/xml; charset=iso-8859-1")).toContain("<title>Café</title>");
  });

  it("reads UTF-8 when a Latin-1 header or declaration is wrong about UTF-8 bytes", () => {
    const utf8 = (decl: string) =>
      Buffer.from(`<?xml version="1.0"${decl}?><rss><channel><title>Café Müller “quoted” — dash</title>`);
    for (const [body, type] of [
      [utf8(""), "text/xml; charset=iso-8859-1"],
      [utf8(' encoding="ISO-8859-1"'), "application/rss+xml"],
      [utf8(' encoding="windows-1252"'), null],
    ] as const) {
      expect(decodeBody(body, type)).toContain("<title>Café Müller “quoted” — dash</title>");
    }
  });

  // 中文新闻 ("Chinese news") and 北京 ("Beijing") in GB2312/GBK.
  const gbk = (decl: string) =>
    Buffer.concat([
      Buffer.from(`<?xml version="1.0"${decl}?><rss version="2.0"><channel><title>`),
      Buffer.from([0xd6, 0xd0, 0xce, 0xc4, 0xd0, 0xc2, 0xce, 0xc5]),
      Buffer.from("</title><item><title>"),
      Buffer.from([0xb1, 0xb1, 0xbe, 0xa9]),
      Buffer.from("</title><link>https://x.example/1</link></item></channel></rss>"),
    ]);

  it("decodes GB2312 declared in the XML prolog", () => {
    const feed = parseFeed(decodeBody(gbk(' encoding="GB2312"'), null));
    expect(feed.title).toBe("中文新闻");
    expect(feed.entries[0]!.title).toBe("北京");
  });

  it("decodes GBK named by the Content-Type charset", () => {
    expect(parseFeed(decodeBody(gbk(""), "application/rss+xml; charset=GBK")).title).toBe("中文新闻");
  });

  const unicodeFeed = rss(item({ title: "Ünïcödé — 日本語", link: "https://x.example/u" }));

  it("decodes UTF-8 with a byte-order mark", () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(unicodeFeed)]);
    expect(parseFeed(decodeBody(body, "text/xml; charset=iso-8859-1")).entries[0]!.title).toBe(
      "Ünïcödé — 日本語",
    );
  });

  it("decodes UTF-16LE and UTF-16BE with a byte-order mark", () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(unicodeFeed, "utf16le")]);
    const be = Buffer.from(le).swap16();
    expect(parseFeed(decodeBody(le, null)).entries[0]!.title).toBe("Ünïcödé — 日本語");
    expect(parseFeed(decodeBody(be, null)).entries[0]!.title).toBe("Ünïcödé — 日本語");
  });

  it("parses text that still starts with a byte-order mark character", () => {
    expect(parseFeed(`\uFEFF${unicodeFeed}`).entries).toHaveLength(1);
  });
});

describe("what is not a feed", () => {
  it.each([
    ["an HTML page", "<!DOCTYPE html><html><head><title>Home</title></head><body>Hi</body></html>"],
    ["an HTML page without a doctype", "\n  <html lang='en'><body>Hi</body></html>"],
    [
      "an XHTML page with an XML declaration",
      '<?xml version="1.0"?><!-- page --><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    ],
  ])("refuses %s with a clear message", (_, doc) => {
    expect(() => parseFeed(doc)).toThrow("not a feed: the URL returned an HTML page");
  });

  it("refuses malformed XML with the parser's reason", () => {
    const doc = rss("<item><title>Broken</link></item>");
    expect(() => parseFeed(doc)).toThrow(/^not a feed: malformed XML \(.+\)$/);
  });

  const twoItems = rss(
    item({ title: "Whole", link: "https://x.example/1" }) +
      item({ title: "Cut", link: "https://x.example/2" }),
  );

  it("keeps the complete items of a feed cut off between two items", () => {
    const cut = twoItems.slice(0, twoItems.indexOf("<item><title>Cut"));
    expect(parseFeed(cut).entries.map((e) => e.title)).toEqual(["Whole"]);
  });

  it("refuses a feed cut off inside an element as malformed XML", () => {
    const cut = twoItems.slice(0, twoItems.indexOf("https://x.example/2") + 5);
    expect(() => parseFeed(cut)).toThrow("not a feed: malformed XML (Unexpected end of link)");
  });

  it.each([
    ["an empty body", "   ", "not a feed: the body is empty"],
    ["plain text", "Service Unavailable", "not a feed: the body is neither XML nor JSON"],
    [
      "XML of another kind",
      "<error><code>42</code></error>",
      "not a feed: <error> is not an RSS, RDF or Atom document",
    ],
    ["malformed JSON", '{"version": ', "not a feed: the body is malformed JSON"],
    [
      "an RSS root without a channel",
      '<rss version="2.0"></rss>',
      "not a feed: <rss> holds no readable feed",
    ],
  ])("refuses %s", (_, doc, message) => {
    expect(() => parseFeed(doc)).toThrow(message);
  });

  it("refuses an entity-expansion bomb before parsing, without expanding it", () => {
    const levels = Array.from(
      { length: 9 },
      (_, n) => `<!ENTITY lol${n + 1} "${`&lol${n};`.repeat(10)}">`,
    ).join("\n");
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY lol0 "lol">
${levels}
]>
<rss version="2.0"><channel><title>&lol9;</title>${item({ title: "&lol9;", link: "https://x.example/1" })}</channel></rss>`;
    expect(() => parseFeed(bomb)).toThrow("not a feed: entity declarations are not allowed");
  });

  it("refuses an external entity declaration", () => {
    const doc = `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${rss(
      item({ title: "&xxe;", link: "https://x.example/1" }),
    ).replace(/^<\?xml[^>]*>/, "")}`;
    expect(() => parseFeed(doc)).toThrow("not a feed: entity declarations are not allowed");
  });

  it("still reads a feed with an external DOCTYPE and HTML entities", () => {
    const doc = `<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old</title>${item({ title: "Caf&eacute; &amp; bar", link: "https://x.example/1" })}</channel></rss>`;
    expect(parseFeed(doc).entries[0]!.title).toBe("Café & bar");
  });

  it("refuses absurdly deep nesting with a message instead of overflowing the stack", () => {
    const deep = rss(`<item><title>a</title><x>${"<a>".repeat(100_000)}${"</a>".repeat(100_000)}</x></item>`);
    expect(() => parseFeed(deep)).toThrow(/^not a feed: malformed XML/);
  });
});

describe("links, dates and duplicates", () => {
  it("resolves relative item links against the site link of an RSS channel", () => {
    const feed = parseFeed(
      rss(
        item({ title: "Root", link: "/2026/11/root" }) + item({ title: "Rel", link: "story.html" }),
        "<link>https://www.example.com/news/</link>",
      ),
      "https://feeds.example.net/news.xml",
    );
    expect(feed.entries.map((e) => e.url)).toEqual([
      "https://www.example.com/2026/11/root",
      "https://www.example.com/news/story.html",
    ]);
  });

  it("resolves relative links against the feed's own URL when the site link is relative too", () => {
    const feed = parseFeed(
      rss(item({ title: "A", link: "/a" }), "<link>/</link>"),
      "https://blog.example.org/feed.xml",
    );
    expect(feed.url).toBe("https://blog.example.org/");
    expect(feed.entries[0]!.url).toBe("https://blog.example.org/a");
  });

  it("resolves Atom links against xml:base", () => {
    const feed = parseFeed(
      `<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example.com/blog/"><title>t</title>
<entry><id>1</id><title>e</title><link href="posts/1"/><updated>2026-11-01T00:00:00Z</updated></entry></feed>`,
      "https://elsewhere.example.net/atom.xml",
    );
    expect(feed.entries[0]!.url).toBe("https://atom.example.com/blog/posts/1");
  });

  it("resolves a relative JSON Feed item URL against its home page", () => {
    const feed = parseFeed(
      JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        home_page_url: "https://json.example.com/",
        items: [{ id: "1", url: "/one", title: "One" }],
      }),
    );
    expect(feed.entries[0]!.url).toBe("https://json.example.com/one");
  });

  it("leaves a relative link as it is when there is nothing to resolve it against", () => {
    const feed = parseFeed(rss(item({ title: "A", link: "/a" }), ""));
    expect(feed.entries[0]!.url).toBe("/a");
  });

  it("gives a null date, never an Invalid Date, for missing and unreadable dates; reads localized ones", () => {
    const feed = parseFeed(
      rss(
        item({ title: "none", link: "https://x.example/1" }) +
          item({ title: "junk", link: "https://x.example/2", pubDate: "not a date" }) +
          item({ title: "german", link: "https://x.example/3", pubDate: "Di, 05 Mär 2024 10:00:00 +0100" }) +
          item({ title: "empty", link: "https://x.example/4", pubDate: "" }) +
          item({ title: "fine", link: "https://x.example/5", pubDate: "Tue, 5 Mar 2024 10:00:00 EST" }),
      ),
    );
    expect(feed.entries.map((e) => e.publishedAt)).toEqual([
      null,
      null,
      new Date("2024-03-05T09:00:00Z"),
      null,
      new Date("2024-03-05T15:00:00Z"),
    ]);
  });

  it("keeps an entry repeated under one GUID and link once, the first copy", () => {
    const feed = parseFeed(
      rss(
        item({ guid: "g1", link: "https://x.example/1", title: "First copy" }) +
          item({ guid: "g2", link: "https://x.example/2", title: "Other" }) +
          item({ guid: "g1", link: "https://x.example/1", title: "Second copy" }),
      ),
    );
    expect(feed.entries.map((e) => e.title)).toEqual(["First copy", "Other"]);
  });

  it("keeps entries that share a GUID but link to different articles", () => {
    const feed = parseFeed(
      rss(
        item({ guid: "same", link: "https://x.example/1", title: "One" }) +
          item({ guid: "same", link: "https://x.example/2", title: "Two" }),
      ),
    );
    expect(feed.entries.map((e) => e.url)).toEqual(["https://x.example/1", "https://x.example/2"]);
  });
});

// Real publishers' feeds (third-party, kept outside the repository): read in place when present.
const REAL_FEEDS = "/work/shared/feeds";
describe.runIf(existsSync(REAL_FEEDS))("real feeds", () => {
  const files = existsSync(REAL_FEEDS) ? readdirSync(REAL_FEEDS).filter((f) => !f.endsWith(".md")) : [];

  const read = (file: string) => decodeBody(readFileSync(join(REAL_FEEDS, file)), null);

  it.each(files.filter((f) => f !== "unrecognized.rss"))(
    "parses %s into absolute links and valid-or-null dates",
    (file) => {
      const { entries } = parseFeed(read(file), "https://feeds.example.com/feed");
      for (const e of entries) {
        if (e.url) expect(e.url).toMatch(/^https?:\/\//);
        if (e.publishedAt) expect(Number.isNaN(e.publishedAt.getTime())).toBe(false);
      }
    },
  );

  it("refuses the 'Document Moved' HTML fragment as an HTML page", () => {
    expect(() => parseFeed(read("unrecognized.rss"))).toThrow("not a feed: the URL returned an HTML page");
  });

  it("reads the Portuguese feed's localized dates ('Seg, 24 Set 2018 19:42:40 -0300')", () => {
    const { entries } = parseFeed(read("uolNoticias.rss"), "https://feeds.example.com/feed");
    expect(entries.every((e) => e.publishedAt !== null)).toBe(true);
    expect(entries[0]!.publishedAt!.toISOString()).toBe("2018-09-24T22:42:40.000Z");
  });

  it("decodes an undeclared Latin-1 feed as windows-1252, not as replacement characters", () => {
    const text = read("uolNoticias.rss");
    expect(text).toContain("Últimas Notícias");
    expect(text).not.toContain("\uFFFD");
  });

  it("decodes the ISO-8859-1 feed's accented title", () => {
    const text = decodeBody(readFileSync(join(REAL_FEEDS, "encoding.rss")), null);
    expect(parseFeed(text).title).toBe("Jornal de Notícias - Últimas Notícias");
  });
});
