import { type NormalizedArticle, normalizeEntry } from "../src/modules/articles/index.ts";

/** An article as ingestion would store it, from a feed entry written for the test. */
export function testArticle(
  url: string,
  title: string,
  body: string,
  opts: { outlet?: string; publishedAt?: string; now?: string } = {},
): NormalizedArticle {
  const r = normalizeEntry(
    {
      guid: url,
      url,
      title,
      body,
      author: null,
      publishedAt: new Date(opts.publishedAt ?? "2026-11-27T05:00:00Z"),
      categories: [],
    },
    {
      feedUrl: "https://feeds.example/",
      outlet: opts.outlet ?? new URL(url).hostname,
      language: "en",
      now: new Date(opts.now ?? "2026-11-27T06:30:00Z"),
    },
  );
  if (!r.ok) throw new Error(r.reason);
  return r.article;
}
