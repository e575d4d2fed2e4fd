import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpFetcher } from "../../integrations/http/fetcher.ts";
import { extractArticle, fetchArticleText } from "./extract.ts";

const BODY_PARAGRAPHS = [
  "The regional water authority approved a plan on Tuesday to replace the aging pipes under the old harbour district, a project engineers have urged for more than a decade.",
  "Under the plan, crews will begin work in the spring and close one street at a time, so that shops along the waterfront can stay open while the trenches are dug and refilled.",
  "Residents who spoke at the meeting welcomed the decision but asked for clearer notice before their water is shut off, and the board agreed to post schedules a week ahead.",
  "The authority expects the work to take three years and to cut the leaks that now lose nearly a fifth of the treated water before it reaches a tap.",
];

function articlePage(opts: { head?: string; lang?: string; extraBody?: string } = {}): string {
  return `<!doctype html>
<html lang="${opts.lang ?? "en-GB"}">
<head>
  <meta charset="utf-8">
  <title>Harbour pipes to be replaced | The Example Gazette</title>
  ${opts.head ?? ""}
  <style>.ad { color: red } body::before { content: "STYLE-NOISE" }</style>
  <script>window.tracker = "SCRIPT-NOISE"; document.write("SCRIPT-NOISE");</script>
</head>
<body>
  <nav class="site-nav"><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">NAV-NOISE Sport</a></nav>
  <div class="ad banner" id="ad-top">ADVERT-NOISE Buy one, get one free</div>
  <main>
    <article>
      <h1>Harbour pipes to be replaced</h1>
      <p class="byline">By <span class="author">Jane Example</span></p>
      <p>${BODY_PARAGRAPHS[0]}</p>
      <p>Under the plan, crews will begin work in the   spring and close
         one street at a time, so that shops along the <a href="/waterfront">waterfront</a> can stay open
         while the trenches are <em>dug and refilled</em>.</p>
      <script>console.log("INLINE-SCRIPT-NOISE")</script>
      <p>${BODY_PARAGRAPHS[2]}</p>
      <p>${BODY_PARAGRAPHS[3]}</p>
      ${opts.extraBody ?? ""}
    </article>
  </main>
  <aside class="sidebar"><h3>Most read</h3><ul><li><a href="/a">SIDEBAR-NOISE one</a></li><li><a href="/b">Two</a></li></ul></aside>
  <footer class="site-footer">FOOTER-NOISE Copyright The Example Gazette. <a href="/privacy">Privacy</a></footer>
  <noscript>NOSCRIPT-NOISE please enable JavaScript</noscript>
</body>
</html>`;
}

const NOISE = [
  "SCRIPT-NOISE",
  "INLINE-SCRIPT-NOISE",
  "STYLE-NOISE",
  "NAV-NOISE",
  "ADVERT-NOISE",
  "SIDEBAR-NOISE",
  "FOOTER-NOISE",
  "NOSCRIPT-NOISE",
  "window.tracker",
];

const PAYWALLED_PAGE = `<!doctype html>
<html lang="en">
<head>
  <title>Quarterly results beat forecasts</title>
  <link rel="canonical" href="https://news.example.com/business/results">
  <script type="application/ld+json">
  {"@context":"https://schema.org","@type":"NewsArticle","headline":"Quarterly results beat forecasts",
   "isAccessibleForFree":false,
   "hasPart":{"@type":"WebPageElement","isAccessibleForFree":false,"cssSelector":".locked"}}
  </script>
</head>
<body>
  <article>
    <h1>Quarterly results beat forecasts</h1>
    <p>${BODY_PARAGRAPHS.join(" ")}</p>
    <div class="locked"><p>${BODY_PARAGRAPHS.join(" ")}</p></div>
  </article>
</body>
</html>`;

describe("extractArticle", () => {
  it("extracts the article text as paragraphs separated by blank lines, whitespace collapsed", () => {
    const result = extractArticle(articlePage(), "https://news.example.com/local/pipes");
    expect(result.status).toBe("ok");
    if (result.status !== "ok") return;
    for (const paragraph of BODY_PARAGRAPHS) expect(result.text.split("\n\n")).toContain(paragraph);
    expect(result.wordCount).toBeGreaterThan(100);
  });

  it("leaves script, style, navigation, ads, sidebars and footers out of the text", () => {
    const result = extractArticle(articlePage(), "https://news.example.com/local/pipes");
    expect(result.status).toBe("ok");
    if (result.status !== "ok") return;
    for (const noise of NOISE) expect(result.text).not.toContain(noise);
  });

  it("finds the canonical URL, the language as a two-letter code, the title and the byline", () => {
    const result = extractArticle(
      articlePage({ head: '<link rel="canonical" href="https://news.example.com/local/harbour-pipes">' }),
      "https://news.example.com/local/pipes?utm_source=feed",
    );
    expect(result).toMatchObject({
      status: "ok",
      canonicalUrl: "https://news.example.com/local/harbour-pipes",
      language: "en",
      title: "Harbour pipes to be replaced",
    });
    if (result.status === "ok") expect(result.byline).toContain("Jane Example");
  });

  it("resolves a relative canonical link against the page URL", () => {
    const result = extractArticle(
      articlePage({ head: '<link rel="canonical" href="../stories/harbour-pipes">' }),
      "https://news.example.com/local/pipes/index.html",
    );
    expect(result).toMatchObject({
      status: "ok",
      canonicalUrl: "https://news.example.com/local/stories/harbour-pipes",
    });
  });

  it("ignores a canonical link that is not http(s) and falls back to og:url", () => {
    const result = extractArticle(
      articlePage({
        head: '<link rel="canonical" href="javascript:alert(1)"><meta property="og:url" content="https://news.example.com/p/42">',
      }),
      "https://news.example.com/local/pipes",
    );
    expect(result).toMatchObject({ status: "ok", canonicalUrl: "https://news.example.com/p/42" });
  });

  it("reports no canonical URL when the page declares none", () => {
    const result = extractArticle(articlePage(), "https://news.example.com/local/pipes");
    expect(result).toMatchObject({ status: "ok", canonicalUrl: null });
  });

  it("takes the language from og:locale when <html> has no lang", () => {
    const html = articlePage({ lang: "", head: '<meta property="og:locale" content="de_DE">' });
    expect(extractArticle(html, "https://news.example.com/a")).toMatchObject({
      status: "ok",
      language: "de",
    });
  });

  it("takes the language from the content-language meta when <html> has no lang", () => {
    const html = articlePage({ lang: "", head: '<meta http-equiv="Content-Language" content="FR">' });
    expect(extractArticle(html, "https://news.example.com/a")).toMatchObject({
      status: "ok",
      language: "fr",
    });
  });

  it("marks a page with schema.org isAccessibleForFree false as paywalled, keeping the canonical URL", () => {
    const result = extractArticle(PAYWALLED_PAGE, "https://news.example.com/business/results?ref=feed");
    expect(result).toMatchObject({
      status: "paywalled",
      canonicalUrl: "https://news.example.com/business/results",
    });
    if (result.status === "paywalled") expect(result.reason).toContain("isAccessibleForFree");
  });

  it("marks a page with a paywall element and only a teaser of text as paywalled", () => {
    const html = `<html lang="en"><head><title>Rates</title></head><body><article>
      <h1>Central bank holds rates</h1>
      <p>The central bank left its main rate unchanged on Thursday, citing slowing inflation and a weaker labour market.</p>
      <div class="paywall-overlay"><p>Read the full story with a digital pass.</p></div>
    </article></body></html>`;
    expect(extractArticle(html, "https://news.example.com/rates")).toMatchObject({ status: "paywalled" });
  });

  it("marks a page whose only text is a subscription prompt as paywalled", () => {
    const html = `<html><head><title>Members</title></head><body>
      <h1>Budget talks stall</h1>
      <div class="gate"><p>Subscribe now to continue reading. Already a subscriber? Sign in.</p></div>
    </body></html>`;
    expect(extractArticle(html, "https://news.example.com/budget")).toMatchObject({ status: "paywalled" });
  });

  it("does not call a full article paywalled because a paywall class appears somewhere on the page", () => {
    const html = articlePage({ extraBody: '<div class="paywall-exempt-banner"></div>' });
    expect(extractArticle(html, "https://news.example.com/a")).toMatchObject({ status: "ok" });
  });

  it("reports a page with no article as unreachable", () => {
    const html = `<html lang="en"><head><title>Sections</title><script>var x = "${"lorem ".repeat(200)}";</script></head><body>
      <nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a></nav>
      <h1>Page not found</h1>
      <p>Sorry, we could not find that page.</p>
      <footer>Copyright The Example Gazette</footer>
    </body></html>`;
    expect(extractArticle(html, "https://news.example.com/missing")).toEqual({
      status: "unreachable",
      reason: "no article text found",
    });
  });

  it("reports a section front made of headline links as unreachable", () => {
    const items = Array.from(
      { length: 30 },
      (_, i) =>
        `<li><a href="/story/${i}">Council votes on new budget for the harbour district, part ${i}</a></li>`,
    ).join("");
    const html = `<html lang="en"><head><title>Local news</title></head><body><main><ul>${items}</ul></main></body></html>`;
    expect(extractArticle(html, "https://news.example.com/local")).toEqual({
      status: "unreachable",
      reason: "no article text found",
    });
  });

  it("does not read a page nested or sized past reason (Readability took 9 minutes for 5,000 levels)", () => {
    const words = `<p>${BODY_PARAGRAPHS.join("</p><p>")}</p>`;
    const deep = extractArticle(
      `<html><body>${"<div>".repeat(5_000)}${words}${"</div>".repeat(5_000)}</body></html>`,
      "https://e.example/a",
    );
    expect(deep).toMatchObject({ status: "unreachable", reason: expect.stringContaining("levels deep") });
    const wide = extractArticle(
      `<html><body>${"<span>x</span>".repeat(40_000)}${words}</body></html>`,
      "https://e.example/b",
    );
    expect(wide).toMatchObject({ status: "unreachable", reason: expect.stringContaining("elements") });
    // A real page's nesting, with elements sloppy markup leaves open, is read as before.
    const sloppy = extractArticle(
      articlePage({ extraBody: "<b><i><font>".repeat(20) }),
      "https://e.example/c",
    );
    expect(sloppy.status).toBe("ok");
  });

  it("extracts an article from a page that omits the <body> tag", () => {
    const html = articlePage().replace(/<\/?body>/g, "");
    const result = extractArticle(html, "https://news.example.com/a");
    expect(result).toMatchObject({ status: "ok", language: "en" });
    if (result.status === "ok") expect(result.text).toContain(BODY_PARAGRAPHS[3]);
  });

  it("extracts an article from a bare HTML fragment", () => {
    const html = BODY_PARAGRAPHS.map((p) => `<p>${p}</p>`).join("\n");
    const result = extractArticle(html, "https://news.example.com/a");
    expect(result).toMatchObject({ status: "ok" });
    if (result.status === "ok") expect(result.text.split("\n\n")).toEqual(BODY_PARAGRAPHS);
  });

  it("reports an empty document as unreachable", () => {
    expect(extractArticle("", "https://news.example.com/empty")).toMatchObject({ status: "unreachable" });
  });

  it("parses only the first 2 MB of a huge page", () => {
    const filler = `<p>${BODY_PARAGRAPHS.join(" ")}</p>`.repeat(Math.ceil((2.2 * 1024 * 1024) / 700));
    const html = `<html lang="en"><head><title>Long</title></head><body><article>${filler}<p>PAST-THE-CAP marker</p></article></body></html>`;
    const result = extractArticle(html, "https://news.example.com/long");
    expect(result.status).toBe("ok");
    if (result.status === "ok") expect(result.text).not.toContain("PAST-THE-CAP");
  });
});

// Windows-1252 bytes for the few characters outside Latin-1 that the fixture uses.
const CP1252: Record<string, number> = { "’": 0x92, "“": 0x93, "”": 0x94, "—": 0x97, "€": 0x80 };
function encodeWindows1252(text: string): Buffer {
  return Buffer.from([...text].map((ch) => CP1252[ch] ?? ch.charCodeAt(0)));
}
const CP1252_SENTENCE =
  "The café’s owner said “business is good” — prices rose to 4 € for a coffee in Zürich and Montréal.";

describe("fetchArticleText", () => {
  let server: http.Server;
  let base: string;
  const fetcher = createHttpFetcher({
    userAgent: "test",
    allowPrivate: true,
    hostDelayMs: 0,
    retryDelayMs: 0,
  });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const send = (status: number, contentType: string, body: string | Buffer) => {
        res.writeHead(status, { "content-type": contentType });
        res.end(body);
      };
      switch (req.url) {
        case "/article":
          return send(
            200,
            "text/html; charset=utf-8",
            articlePage({ head: '<link rel="canonical" href="/a/1">' }),
          );
        case "/moved":
          res.writeHead(301, { location: "/news/article-page" });
          return res.end();
        case "/news/article-page":
          return send(
            200,
            "text/html",
            articlePage({ head: '<link rel="canonical" href="canonical-page">' }),
          );
        case "/missing":
          return send(404, "text/html", "<html><body><h1>Not found</h1></body></html>");
        case "/payment":
          return send(402, "text/html", "<html><body>Payment required</body></html>");
        case "/forbidden":
          return send(403, "text/html", "<html><body>Subscribers only</body></html>");
        case "/broken":
          return send(500, "text/html", "<html><body>Oops</body></html>");
        case "/report.pdf":
          return send(200, "application/pdf", "%PDF-1.4");
        case "/cp1252":
          return send(
            200,
            "text/html; charset=windows-1252",
            encodeWindows1252(articlePage({ extraBody: `<p>${CP1252_SENTENCE}</p>` })),
          );
        case "/cp1252-meta":
          return send(
            200,
            "text/html",
            encodeWindows1252(
              articlePage({ extraBody: `<p>${CP1252_SENTENCE}</p>` }).replace(
                '<meta charset="utf-8">',
                '<meta charset="windows-1252">',
              ),
            ),
          );
        default:
          return send(404, "text/plain", "no route");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("fetches a page and extracts its text, resolving the canonical link against the page", async () => {
    const result = await fetchArticleText(fetcher, `${base}/article`);
    expect(result).toMatchObject({ status: "ok", canonicalUrl: `${base}/a/1`, language: "en" });
    if (result.status === "ok") expect(result.text).toContain(BODY_PARAGRAPHS[0]);
  });

  it("resolves a relative canonical link against the URL reached after redirects", async () => {
    const result = await fetchArticleText(fetcher, `${base}/moved`);
    expect(result).toMatchObject({ status: "ok", canonicalUrl: `${base}/news/canonical-page` });
  });

  it("reports HTTP 404 as unreachable with the status as reason", async () => {
    expect(await fetchArticleText(fetcher, `${base}/missing`)).toEqual({
      status: "unreachable",
      reason: "HTTP 404",
    });
  });

  it("reports HTTP 500 as unreachable", async () => {
    expect(await fetchArticleText(fetcher, `${base}/broken`)).toEqual({
      status: "unreachable",
      reason: "HTTP 500",
    });
  });

  it("reports HTTP 402 as paywalled", async () => {
    expect(await fetchArticleText(fetcher, `${base}/payment`)).toEqual({
      status: "paywalled",
      canonicalUrl: null,
      reason: "HTTP 402",
    });
  });

  it("reports HTTP 403 as paywalled", async () => {
    expect(await fetchArticleText(fetcher, `${base}/forbidden`)).toMatchObject({
      status: "paywalled",
      reason: "HTTP 403",
    });
  });

  it("reports a response that is not HTML as unreachable", async () => {
    expect(await fetchArticleText(fetcher, `${base}/report.pdf`)).toEqual({
      status: "unreachable",
      reason: "not an HTML page (application/pdf)",
    });
  });

  it("reports a refused connection as unreachable with the network error as reason", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await fetchArticleText(fetcher, `http://127.0.0.1:${port}/article`);
    expect(result.status).toBe("unreachable");
    if (result.status === "unreachable") expect(result.reason).toMatch(/ECONNREFUSED/);
  });

  it("decodes a windows-1252 page by the charset in its Content-Type", async () => {
    const result = await fetchArticleText(fetcher, `${base}/cp1252`);
    expect(result.status).toBe("ok");
    if (result.status === "ok") expect(result.text).toContain(CP1252_SENTENCE);
  });

  it("decodes a windows-1252 page by its <meta charset> when the header names none", async () => {
    const result = await fetchArticleText(fetcher, `${base}/cp1252-meta`);
    expect(result.status).toBe("ok");
    if (result.status === "ok") expect(result.text).toContain(CP1252_SENTENCE);
  });
});
