import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { DbHandle } from "./client.ts";
import { type Db, rowsOf } from "./client.ts";

export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

// Any number of processes may start at once; one advisory lock lets one of them migrate.
const MIGRATION_LOCK = 727_001;

/** Applies the committed drizzle/ migrations that have not run yet. */
export async function migrate(handle: DbHandle): Promise<void> {
  if (handle.driver === "pglite") {
    const { migrate: run } = await import("drizzle-orm/pglite/migrator");
    await run(handle.db as never, { migrationsFolder });
    return;
  }
  const { migrate: run } = await import("drizzle-orm/postgres-js/migrator");
  await handle.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    // The migrator runs its own transaction on the pool; the lock holder waits for it here.
    await run(handle.db as never, { migrationsFolder });
  });
}

/** How many migrations this build ships (drizzle-kit's journal). */
export function shippedMigrations(): number {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

/**
 * Whether the database has every migration this build ships (readiness: a process that started
 * against an older schema, before `daybreak migrate` ran, must not take traffic).
 */
export async function migrationsCurrent(db: Db, shipped = shippedMigrations()): Promise<boolean> {
  const [row] = rowsOf<{ n: number | string | null }>(
    await db.execute(sql`select count(*) as n from drizzle.__drizzle_migrations`),
  );
  return Number(row?.n ?? 0) >= shipped;
}
