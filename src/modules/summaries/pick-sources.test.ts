import { describe, expect, it } from "vitest";
import { pickSources } from "./summaries.service.ts";

const article = (id: string, domain: string, words: number) => ({
  id,
  domain,
  content: "word ".repeat(words),
});

describe("the articles a summary cites", () => {
  it("takes each outlet's first article, passing over a teaser, then the others, in the story's order", () => {
    const all = [
      article("city-teaser", "citynews.example", 4),
      article("wire", "wire.example", 300),
      article("city-full", "citynews.example", 500),
      article("city-follow-up", "citynews.example", 200),
    ];
    expect(pickSources(all, 8).map((a) => a.id)).toEqual([
      "wire",
      "city-full",
      "city-teaser",
      "city-follow-up",
    ]);
  });

  it("cites several articles of one site when that is all the story has, up to the limit", () => {
    const all = [
      article("a1", "one.example", 100),
      article("a2", "one.example", 300),
      article("a3", "one.example", 200),
    ];
    expect(pickSources(all, 2).map((a) => a.id)).toEqual(["a1", "a2"]);
    expect(pickSources(all, 8)).toHaveLength(3);
  });

  it("keeps a teaser when its outlet has nothing fuller", () => {
    const all = [article("teaser", "one.example", 4), article("wire", "wire.example", 300)];
    expect(pickSources(all, 8).map((a) => a.id)).toEqual(["teaser", "wire"]);
  });
});
