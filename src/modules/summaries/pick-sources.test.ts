import { describe, expect, it } from "vitest";
import { pickSources } from "./summaries.service.ts";

const article = (id: string, domain: string, words: number) => ({
  id,
  domain,
  content: "word ".repeat(words),
});

describe("the articles a summary cites", () => {
  it("takes each outlet's fullest article first, in the story's outlet order, then the others fullest first", () => {
    const all = [
      article("city-teaser", "citynews.example", 4),
      article("wire", "wire.example", 300),
      article("city-full", "citynews.example", 500),
      article("city-follow-up", "citynews.example", 200),
    ];
    expect(pickSources(all, 8).map((a) => a.id)).toEqual([
      "city-full",
      "wire",
      "city-follow-up",
      "city-teaser",
    ]);
  });

  it("cites several articles of one site when that is all the story has, up to the limit", () => {
    const all = [
      article("a1", "one.example", 100),
      article("a2", "one.example", 300),
      article("a3", "one.example", 200),
    ];
    expect(pickSources(all, 2).map((a) => a.id)).toEqual(["a2", "a3"]);
    expect(pickSources(all, 8)).toHaveLength(3);
  });
});
