import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../../lib/clock.ts";
import { AppError } from "../../lib/errors.ts";
import type { Fetcher } from "./fetcher.ts";

export const SAMPLE_SCHEME = "sample:";

/**
 * Serves the bundled sample feeds (`sample:<file>`) so a fresh clone has news with no network.
 * The samples are replayed as if fresh: every date is shifted so the newest item is an hour old.
 */
export function createSampleFetcher(dir: string, clock: Clock, next: Fetcher): Fetcher {
  return {
    async get(req) {
      if (!req.url.startsWith(SAMPLE_SCHEME)) return next.get(req);
      const name = req.url.slice(SAMPLE_SCHEME.length);
      if (!/^[\w.-]+$/.test(name)) throw new AppError("VALIDATION", `bad sample feed name ${name}`);
      let text: string;
      try {
        text = await readFile(join(dir, name), "utf8");
      } catch {
        throw new AppError("NOT_FOUND", `no sample feed named ${name}`);
      }
      return {
        status: 200,
        url: req.url,
        body: Buffer.from(shiftDates(text, clock.now())),
        contentType: name.endsWith(".atom") ? "application/atom+xml" : "application/rss+xml",
        etag: null,
        lastModified: null,
        notModified: false,
      };
    },
  };
}

const DATE_TAGS = /<(pubDate|published|updated|dc:date|lastBuildDate)>([^<]+)<\/\1>/g;

export function shiftDates(xml: string, now: Date): string {
  const dates = [...xml.matchAll(DATE_TAGS)].map((m) => Date.parse(m[2]!)).filter((t) => !Number.isNaN(t));
  if (dates.length === 0) return xml;
  const delta = now.getTime() - 60 * 60 * 1000 - Math.max(...dates);
  return xml.replace(DATE_TAGS, (whole, tag: string, value: string) => {
    const t = Date.parse(value);
    if (Number.isNaN(t)) return whole;
    const shifted = new Date(t + delta);
    const text = tag === "pubDate" || tag === "lastBuildDate" ? shifted.toUTCString() : shifted.toISOString();
    return `<${tag}>${text}</${tag}>`;
  });
}
