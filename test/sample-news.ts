import { afterAll, beforeAll } from "vitest";
import type { DbHandle } from "../src/db/client.ts";
import { sampleFeedsDir } from "../src/deps.ts";
import { runIngest } from "../src/jobs/pipeline.ts";
import { seedSampleSources } from "../src/jobs/sample-data.ts";
import { createTestDb } from "./db.ts";
import { createTestDeps } from "./deps.ts";

/** A test database holding the sample feeds' news, ingested, grouped and summarized as of `now`. */
export async function withSampleNews(now = "2026-11-27T07:05:00Z") {
  const db = await createTestDb();
  const deps = await createTestDeps(db, { now });
  await seedSampleSources(deps, sampleFeedsDir);
  await runIngest(deps);
  return { db, deps };
}

/**
 * The sample news for every test of the calling file: opened before its first test, closed after
 * its last. Read `news.deps` and `news.db` inside tests (they are set once the file starts).
 */
export function useSampleNews(now?: string) {
  const news = {} as { db: DbHandle; deps: Awaited<ReturnType<typeof createTestDeps>> };
  beforeAll(async () => {
    Object.assign(news, await withSampleNews(now));
  });
  afterAll(async () => {
    await news.db?.close();
  });
  return news;
}
