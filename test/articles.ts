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

/** A wire report of one event, re-run by several outlets in the dedupe and listing tests. */
export const WIRE_STRIKE =
  "Dockworkers at Rotterdam and Antwerp began a 72-hour strike on Thursday over plans to expand automated cranes, " +
  "unions said. Shipping lines including Maersk warned customers of delays of up to a week for Asia-Europe cargo, " +
  "and forwarders said spot rates for a 40-foot container from Shanghai had risen by about 20 percent since Monday. " +
  "Port authorities said dozens of ships were expected to wait at anchor while talks continued in The Hague.";
