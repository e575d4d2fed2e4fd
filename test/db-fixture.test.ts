import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anyOf } from "../src/db/any-of.ts";
import { type DbHandle, rowsOf } from "../src/db/client.ts";
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

  it("runs the server's statements without JIT compilation (see openDb)", async ({ skip }) => {
    if (db.driver !== "postgres") skip();
    const [row] = rowsOf<{ jit: string }>(await db.db.execute(sql`show jit`));
    expect(row?.jit).toBe("off");
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

  it("binds a list as one array parameter, any text as written, on either driver", async () => {
    const odd = ['q"uote@x.example', "back\\slash@x.example", "comma,{brace}@x.example", "NULL", " spaced "];
    const rows = await db.db
      .insert(subscribers)
      .values(
        [...odd, "other@x.example"].map((email) => ({
          email,
          role: "r",
          industry: "i",
          timezone: "UTC",
          deliveryTime: "07:00",
        })),
      )
      .returning({ id: subscribers.id, email: subscribers.email });
    const byEmail = await db.db
      .select({ email: subscribers.email })
      .from(subscribers)
      .where(anyOf(subscribers.email, odd, "text"));
    expect(byEmail.map((r) => r.email).sort()).toEqual([...odd].sort());
    const ids = rows.filter((r) => r.email !== "other@x.example").map((r) => r.id);
    const byId = await db.db
      .select({ id: subscribers.id })
      .from(subscribers)
      .where(anyOf(subscribers.id, ids, "uuid"));
    expect(byId.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(
      await db.db
        .select()
        .from(subscribers)
        .where(anyOf(subscribers.id, [], "uuid")),
    ).toEqual([]);
    await expect(
      db.db
        .select()
        .from(subscribers)
        .where(anyOf(subscribers.id, ["not-a-uuid"], "uuid")),
    ).rejects.toThrow(/uuid/);
  });
});
