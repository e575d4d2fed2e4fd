import { describe, expect, it } from "vitest";
import { detectLanguage, htmlToText, looksLikeHtml, sliceWhole, splitSentences, terms } from "./text.ts";

describe("htmlToText", () => {
  it("keeps paragraphs, decodes entities and drops scripts and styles", () => {
    const html = `<p>Rates &amp; bonds</p><script>alert(1)</script><style>p{}</style><div>Second <b>para</b></div>`;
    expect(htmlToText(html)).toBe("Rates & bonds\n\nSecond para");
  });

  it("reads hostile markup in one pass: 160,000 nested or unclosed elements (19 s before)", () => {
    const nested = `${"<div>".repeat(160_000)}deep${"</div>".repeat(160_000)}`;
    expect(htmlToText(nested)).toBe("deep");
    expect(htmlToText(`${"<b>".repeat(160_000)}open`)).toBe("open");
  });

  it("skips what scripts, styles and heads hold, whatever their case, and keeps what follows", () => {
    expect(htmlToText("<HEAD><title>t</title></HEAD><SCRIPT>x()</SCRIPT>a<svg/>b<!-- c -->d&#x27;e")).toBe(
      "abd'e",
    );
  });
});

describe("splitSentences", () => {
  it("splits on sentence ends but not after abbreviations", () => {
    expect(
      splitSentences("Mr. Smith met the U.S. envoy on Monday. They agreed. Talks resume in Jan. 2027."),
    ).toEqual(["Mr. Smith met the U.S. envoy on Monday.", "They agreed.", "Talks resume in Jan. 2027."]);
  });

  it("reads a hostile run of 40,000 abbreviations as one sentence in one pass (10 s before)", () => {
    const text = "U.S. ".repeat(40_000).trim();
    expect(splitSentences(text)).toEqual([text]);
  });
});

describe("terms", () => {
  it("lower-cases, stems plurals and drops stopwords", () => {
    expect(terms("The chips and tariffs of the companies")).toEqual(["chip", "tariff", "company"]);
  });
});

describe("detectLanguage", () => {
  it("tells English, German and French paragraphs apart and declines a few words", () => {
    expect(
      detectLanguage(
        "The central bank held its rate and said that it is ready to act if inflation rises again this year.",
      ),
    ).toBe("en");
    expect(
      detectLanguage(
        "Die Zentralbank hat den Zins nicht verändert und sagt, dass sie mit der Inflation auf dem richtigen Weg ist.",
      ),
    ).toBe("de");
    expect(
      detectLanguage(
        "La banque centrale a maintenu son taux et a indiqué que la baisse de l'inflation est une bonne nouvelle pour les ménages.",
      ),
    ).toBe("fr");
    expect(detectLanguage("Rates held")).toBeNull();
  });
});

describe("sliceWhole", () => {
  it("never cuts a character in half", () => {
    const text = `ab${"😀"}cd`; // the emoji is two UTF-16 units, at 2 and 3
    expect(sliceWhole(text, 3)).toBe("ab");
    expect(sliceWhole(text, 4)).toBe("ab😀");
    expect(JSON.parse(JSON.stringify(sliceWhole(text, 3)))).toBe("ab");
    expect(sliceWhole("short", 10)).toBe("short");
  });
});

describe("looksLikeHtml", () => {
  it("takes tags, active elements left open and HTML escapes as markup; comparisons and stray ampersands as text", () => {
    for (const html of [
      "<p>Text</p>",
      "a<br/>b",
      "<svg/onload=alert(1)>",
      "<img/src=x onerror=alert(1)>",
      "Port <img src=x onerror=alert(1)",
      "AT&amp;T",
      "it&#8217;s",
    ])
      expect(looksLikeHtml(html), html).toBe(true);
    for (const text of [
      "profits rose by <10% while x<y held",
      "a<b was expected",
      "&notanentity; stays",
      "5 < 6 > 4",
    ])
      expect(looksLikeHtml(text), text).toBe(false);
  });
});
