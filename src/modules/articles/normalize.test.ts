import { describe, expect, it } from "vitest";
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
