import { anyOf } from "../../db/any-of.ts";
import type { Db } from "../../db/client.ts";
import { storySummaries } from "../../db/schema/index.ts";
import type { StorySummary } from "./summaries.service.ts";

/**
 * Story summaries by id, kept in the process. A summary row is written once and never changed (a
 * story that gains articles gets a new version with a new id), so a cached row is never stale.
 * The morning's briefings all cite the same few hundred summaries: without this, every batch of
 * subscribers built and every email rendered parsed them again from the database (measured as
 * most of a render's database time).
 */
export class SummaryCache {
  private readonly byId = new Map<string, StorySummary>();

  /** Kept at most; the oldest loaded go first (a day's candidates are well under this). */
  constructor(private readonly capacity = 2000) {}

  /** The summaries with these ids that exist; those not yet held are read in one query. */
  async byIds(db: Db, ids: Iterable<string>): Promise<Map<string, StorySummary>> {
    const out = new Map<string, StorySummary>();
    const missing: string[] = [];
    for (const id of ids) {
      const hit = this.byId.get(id);
      if (hit) out.set(id, hit);
      else if (!out.has(id)) missing.push(id);
    }
    if (missing.length === 0) return out;
    const rows = await db
      .select()
      .from(storySummaries)
      .where(anyOf(storySummaries.id, [...new Set(missing)], "uuid"));
    for (const row of rows) {
      out.set(row.id, row);
      this.remember(row);
    }
    return out;
  }

  private remember(row: StorySummary): void {
    this.byId.delete(row.id);
    this.byId.set(row.id, row);
    if (this.byId.size <= this.capacity) return;
    for (const id of this.byId.keys()) {
      this.byId.delete(id);
      if (this.byId.size <= this.capacity) break;
    }
  }
}
