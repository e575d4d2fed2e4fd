/**
 * The corpus through the HTTP contract (../shared/API.md), as an outside client measures Daybreak:
 * `daybreak serve` started on a fresh PostgreSQL database, the corpus' outlets added as sources and
 * served as loopback feeds (their 2021 dates as they are), `POST /admin/ingest`, then
 * `GET /admin/stories` scored against the events (B-cubed), the development profiles created with
 * `POST /admin/subscribers`, their briefings built with `POST /admin/briefings` and read with
 * `GET /v1/briefings/today`, and each briefing scored against the graded relevance (nDCG@5,
 * nDCG@10, precision@5). Nothing is called in process: only HTTP.
 *   npm run eval:api -- ../shared/corpus   (EVAL_DATABASE_URL: the server, default local postgres)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { canonicalUrl } from "../src/modules/articles/index.ts";
import { bcubed, buildFeeds, loadCorpus, serveFeeds } from "./corpus.ts";

const SERVER = process.env.EVAL_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const PORT = 38_491;
const ADMIN = `admin-${randomBytes(8).toString("hex")}`;
const base = `http://127.0.0.1:${PORT}`;

type DevProfile = { id: string; role: string; industry: string; interests?: string[]; timezone: string };

async function call<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const dcg = (gains: number[], k: number) =>
  gains.slice(0, k).reduce((s, g, i) => s + g / Math.log2(i + 2), 0);
const round = (x: number) => +x.toFixed(4);

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: npm run eval:api -- <corpus dir>");
  const events = loadCorpus(dir);
  const profiles = JSON.parse(readFileSync(join(dir, "profiles-dev.json"), "utf8")) as DevProfile[];
  const { grades } = JSON.parse(readFileSync(join(dir, "relevance-dev.json"), "utf8")) as {
    grades: Record<string, Record<string, number>>;
  };

  const dbName = `daybreak_eval_${randomBytes(4).toString("hex")}`;
  const admin = postgres(SERVER, { max: 1 });
  await admin.unsafe(`create database ${dbName}`);
  const url = new URL(SERVER);
  url.pathname = `/${dbName}`;
  const { server: feedServer, urls } = await serveFeeds(buildFeeds(events));
  let daybreak: ChildProcess | undefined;
  try {
    daybreak = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "serve"], {
      cwd: join(import.meta.dirname, ".."),
      env: {
        ...process.env,
        PORT: String(PORT),
        DATABASE_URL: url.toString(),
        ADMIN_TOKEN: ADMIN,
        FETCH_ALLOW_PRIVATE: "true",
        // The corpus links to real publishers, out of reach here.
        FETCH_FULL_TEXT: "false",
        SAMPLE_DATA: "false",
        LOG_LEVEL: "warn",
        DATA_DIR: `/tmp/${dbName}`,
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    for (let i = 0; ; i++) {
      if ((await fetch(`${base}/readyz`).catch(() => null))?.ok) break;
      if (i > 300) throw new Error("daybreak serve did not become ready in 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }

    for (const feed of urls) await call("POST", "/admin/sources", ADMIN, { url: feed });
    let t = performance.now();
    const ingest = await call<{ sources: number; articles: number; stories: number }>(
      "POST",
      "/admin/ingest",
      ADMIN,
    );
    const ingestSeconds = (performance.now() - t) / 1000;

    const { stories } = await call<{
      stories: { id: string; headline: string; sources: { url: string }[] }[];
    }>("GET", "/admin/stories", ADMIN);
    const gold = new Map<string, string>();
    for (const e of events) for (const a of e.articles) gold.set(canonicalUrl(a.url), e.id);
    const predicted = new Map<string, string>();
    const eventOf = new Map<string, string>();
    for (const s of stories) {
      const votes = new Map<string, number>();
      for (const src of s.sources) {
        predicted.set(src.url, s.id);
        const e = gold.get(src.url);
        if (e) votes.set(e, (votes.get(e) ?? 0) + 1);
      }
      const top = [...votes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
      if (top) eventOf.set(s.id, top[0]);
    }
    const clusters = bcubed(gold, predicted);

    t = performance.now();
    const perProfile: { id: string; items: number; ndcg5: number; ndcg10: number; p5: number }[] = [];
    for (const p of profiles) {
      const created = await call<{ id: string; token: string }>("POST", "/admin/subscribers", ADMIN, {
        email: `${p.id}@eval.example`,
        role: p.role,
        industry: p.industry,
        interests: p.interests ?? [],
        timezone: p.timezone,
        deliveryTime: "07:00",
        briefingLength: 10,
      });
      const today = new Intl.DateTimeFormat("en-CA", { timeZone: p.timezone }).format(new Date());
      await call("POST", "/admin/briefings", ADMIN, { date: today, subscriberIds: [created.id] });
      const briefing = await call<{ items: { story: { id: string } }[] }>(
        "GET",
        "/v1/briefings/today",
        created.token,
      );
      const g = grades[p.id] ?? {};
      const seen = new Set<string>();
      const gains = briefing.items.map((i) => {
        const e = eventOf.get(i.story.id);
        if (!e || seen.has(e)) return 0;
        seen.add(e);
        return g[e] ?? 0;
      });
      const ideal = [...new Set(eventOf.values())].map((e) => g[e] ?? 0).sort((a, b) => b - a);
      const ndcg = (k: number) => (dcg(ideal, k) > 0 ? dcg(gains, k) / dcg(ideal, k) : 0);
      perProfile.push({
        id: p.id,
        items: briefing.items.length,
        ndcg5: round(ndcg(5)),
        ndcg10: round(ndcg(10)),
        p5: round(gains.slice(0, 5).filter((x) => x >= 2).length / 5),
      });
    }
    const briefingSeconds = (performance.now() - t) / 1000;
    const mean = (k: "ndcg5" | "ndcg10" | "p5") =>
      round(perProfile.reduce((s, r) => s + r[k], 0) / perProfile.length);
    console.log(
      JSON.stringify(
        {
          benchmark: "eval-api",
          corpus: "allsides-dev",
          through: "HTTP only: daybreak serve on PostgreSQL",
          sources: urls.length,
          ingest: { ...ingest, seconds: +ingestSeconds.toFixed(2) },
          clusters: {
            stories: stories.length,
            urlsListed: predicted.size,
            articles: gold.size,
            precision: round(clusters.precision),
            recall: round(clusters.recall),
            f1: round(clusters.f1),
          },
          ranking: {
            profiles: perProfile,
            mean: { ndcg5: mean("ndcg5"), ndcg10: mean("ndcg10"), p5: mean("p5") },
          },
          briefingSeconds: +briefingSeconds.toFixed(2),
        },
        null,
        2,
      ),
    );
  } finally {
    daybreak?.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    feedServer.close();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
