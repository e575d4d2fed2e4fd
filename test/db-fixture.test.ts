import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../src/db/client.ts";
import { subscribers } from "../src/db/schema/index.ts";
import { createTestDb } from "./db.ts";

let db: DbHandle;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.close();
});

describe("the db fixture", () => {
  it("gives a migrated database of the configured kind", async () => {
    expect(db.driver).toBe(process.env.TEST_DATABASE_URL ? "postgres" : "pglite");
    const rows = await db.db.select().from(subscribers);
    expect(rows).toEqual([]);
  });

  it("rolls a failed transaction back whole, on either driver", async () => {
    await expect(
      db.db.transaction(async (tx) => {
        await tx.insert(subscribers).values({
          email: "a@example.com",
          role: "r",
          industry: "i",
          timezone: "UTC",
          deliveryTime: "07:00",
        });
        await tx.execute(sql`select 1/0`);
      }),
    ).rejects.toThrow();
    expect(await db.db.select().from(subscribers)).toEqual([]);
  });
});
