/**
 * The evaluation corpus (../shared/corpus, third-party text: read at run time, never copied
 * into the repository) served as per-outlet RSS feeds from a loopback HTTP server, so that
 * evaluations run the real fetcher, parser and ingestion.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export type CorpusArticle = {
  event: string;
  outlet: string;
  title: string;
  url: string;
  body: string[];
  date: string;
};
export type CorpusEvent = {
  id: string;
  issue: string;
  date: string;
  roundup: string[];
  articles: CorpusArticle[];
};

export function loadCorpus(dir: string): CorpusEvent[] {
  const lines = readFileSync(join(dir, "allsides-dev.jsonl"), "utf8").split("\n").filter(Boolean);
  return lines.map((line) => {
    const e = JSON.parse(line) as {
      id: string | number;
      issue: string;
      date: string;
      roundup: string[];
      news: Record<string, { newsSource: string; newsTitle: string; newsLink: string; newBody: string[] }>;
    };
    const id = String(e.id);
    return {
      id,
      issue: e.issue,
      date: e.date,
      roundup: e.roundup,
      articles: Object.values(e.news).map((a) => ({
        event: id,
        outlet: a.newsSource.replace(/\s*\((Online News|News|Opinion)\)\s*$/, ""),
        title: a.newsTitle,
        url: a.newsLink,
        body: a.newBody,
        date: e.date,
      })),
    };
  });
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
export const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

/** One RSS 2.0 document per outlet; an outlet's reports of an event are spread over a few hours. */
export function buildFeeds(events: CorpusEvent[]): Map<string, string> {
  const byOutlet = new Map<string, CorpusArticle[]>();
  for (const e of events) {
    for (const a of e.articles) byOutlet.set(a.outlet, [...(byOutlet.get(a.outlet) ?? []), a]);
  }
  const feeds = new Map<string, string>();
  for (const [outlet, articles] of byOutlet) {
    const offset = (outlet.length % 7) * 3600_000;
    const items = articles
      .map((a) => {
        const pub = new Date(Date.parse(a.date) + offset).toUTCString();
        const html = a.body.map((p) => `<p>${esc(p)}</p>`).join("");
        return `<item><title>${esc(a.title)}</title><link>${esc(a.url)}</link><guid>${esc(a.url)}</guid><pubDate>${pub}</pubDate><description><![CDATA[${html.replace(/]]>/g, "]]&gt;")}]]></description></item>`;
      })
      .join("\n");
    feeds.set(
      `${slug(outlet)}.xml`,
      `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>${esc(outlet)}</title><link>https://${slug(outlet)}.invalid/</link><description>${esc(outlet)}</description>\n${items}\n</channel></rss>`,
    );
  }
  return feeds;
}

export async function serveFeeds(feeds: Map<string, string>): Promise<{ server: Server; urls: string[] }> {
  const server = createServer((req, res) => {
    const name = (req.url ?? "").replace(/^\/feeds\//, "");
    const body = feeds.get(name);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/rss+xml; charset=utf-8" }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { server, urls: [...feeds.keys()].map((n) => `http://127.0.0.1:${port}/feeds/${n}`) };
}

/** The latest event date plus a day: the clock an evaluation ingests at. */
export function corpusNow(events: CorpusEvent[]): Date {
  return new Date(Math.max(...events.map((e) => Date.parse(e.date))) + 86400_000);
}

/** B-cubed precision, recall and F1 of a clustering (`predicted`: item -> cluster) against `gold`. */
export function bcubed(gold: Map<string, string>, predicted: Map<string, string>) {
  const goldMembers = new Map<string, string[]>();
  const predMembers = new Map<string, string[]>();
  for (const [item, g] of gold) goldMembers.set(g, [...(goldMembers.get(g) ?? []), item]);
  for (const item of gold.keys()) {
    // An article ingestion lost counts as a cluster of its own.
    const p = predicted.get(item) ?? `missing:${item}`;
    predMembers.set(p, [...(predMembers.get(p) ?? []), item]);
  }
  let precision = 0;
  let recall = 0;
  for (const [item, g] of gold) {
    const p = predicted.get(item) ?? `missing:${item}`;
    const cluster = predMembers.get(p)!;
    const same = cluster.filter((x) => gold.get(x) === g).length;
    precision += same / cluster.length;
    recall += same / goldMembers.get(g)!.length;
  }
  const n = gold.size;
  const P = precision / n;
  const R = recall / n;
  return { precision: P, recall: R, f1: (2 * P * R) / (P + R) };
}

/**
 * The corpus ingested for real: served as loopback feeds, fetched, parsed, stored, clustered and
 * summarized by the pipeline on an in-memory database (or EVAL_DATABASE_URL) at `corpusNow`.
 */
export async function ingestCorpus(events: CorpusEvent[]) {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { loadConfig } = await import("../src/config.ts");
  const { createDeps } = await import("../src/deps.ts");
  const { migrate } = await import("../src/db/migrate.ts");
  const { fixedClock } = await import("../src/lib/clock.ts");
  const { silentLogger } = await import("../src/lib/logger.ts");
  const { addSource } = await import("../src/modules/sources/index.ts");
  const { runIngest } = await import("../src/jobs/pipeline.ts");
  const { server, urls } = await serveFeeds(buildFeeds(events));
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), "daybreak-eval-")),
    FETCH_ALLOW_PRIVATE: "true",
    // The corpus links to real publishers, out of reach here; its excerpts are what is evaluated.
    FETCH_FULL_TEXT: "false",
    // Every corpus feed is on one loopback host: politeness would only add waiting to the figure.
    FETCH_HOST_DELAY_MS: "0",
    LOG_LEVEL: "silent",
    DATABASE_URL: process.env.EVAL_DATABASE_URL,
  });
  const deps = await createDeps(config, {
    inMemoryDb: true,
    clock: fixedClock(corpusNow(events)),
    logger: silentLogger,
    llm: null,
  });
  await migrate(deps.dbHandle);
  for (const url of urls) await addSource(deps, { url });
  const started = performance.now();
  const ingest = await runIngest(deps);
  const seconds = (performance.now() - started) / 1000;
  server.close();
  return { deps, ingest, seconds };
}
