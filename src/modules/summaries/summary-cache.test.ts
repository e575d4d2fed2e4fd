import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useSampleNews } from "../../../test/sample-news.ts";
import { rowsOf } from "../../db/client.ts";
import { SummaryCache } from "./summary-cache.ts";

const news = useSampleNews();

describe("SummaryCache", () => {
  it("reads a summary once, serves it again without the database, and forgets the oldest past capacity", async () => {
    const ids = rowsOf<{ id: string }>(
      await news.deps.db.execute(sql`select id from story_summaries order by created_at limit 3`),
    ).map((r) => r.id);
    expect(ids).toHaveLength(3);
    const cache = new SummaryCache(2);
    const first = await cache.byIds(news.deps.db, [ids[0]!, ids[0]!, "00000000-0000-0000-0000-000000000000"]);
    expect([...first.keys()]).toEqual([ids[0]]);

    // Gone from the database, still served: rows never change once written, so a hit is never stale.
    await news.deps.db.execute(sql`delete from story_summaries where id = ${ids[0]!}`);
    expect((await cache.byIds(news.deps.db, [ids[0]!])).get(ids[0]!)?.id).toBe(ids[0]);

    // Two more read: the oldest is forgotten and read again (now absent).
    await cache.byIds(news.deps.db, [ids[1]!, ids[2]!]);
    expect((await cache.byIds(news.deps.db, [ids[0]!])).has(ids[0]!)).toBe(false);
    expect((await cache.byIds(news.deps.db, [ids[2]!])).get(ids[2]!)?.id).toBe(ids[2]);
  });
});
