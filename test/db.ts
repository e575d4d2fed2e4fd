import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { type DbHandle, openDb } from "../src/db/client.ts";
import { migrate, migrationsFolder } from "../src/db/migrate.ts";

/** The template database's name changes whenever a migration does, so a stale one is never reused. */
export function templateName(): string {
  const h = createHash("sha256");
  for (const f of readdirSync(migrationsFolder).sort()) {
    if (f.endsWith(".sql")) h.update(readFileSync(join(migrationsFolder, f)));
  }
  return `daybreak_tpl_${h.digest("hex").slice(0, 12)}`;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Called once per run (global setup): a migrated template database on the real server. */
export async function prepareTemplate(serverUrl: string): Promise<void> {
  const name = templateName();
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    const exists = await admin`select 1 from pg_database where datname = ${name}`;
    if (exists.length > 0) return;
    const building = `${name}_build_${randomBytes(3).toString("hex")}`;
    await admin.unsafe(`create database "${building}"`);
    const handle = await openDb({ url: withDatabase(serverUrl, building), poolSize: 2 });
    await migrate(handle);
    await handle.close();
    // Renamed only when complete: a crash mid-build never leaves a half-migrated template.
    await admin.unsafe(`alter database "${building}" rename to "${name}"`).catch(async () => {
      await admin.unsafe(`drop database if exists "${building}"`);
    });
  } finally {
    await admin.end();
  }
}

/**
 * A fresh database for one test file: a copy of the migrated template on the real server when
 * TEST_DATABASE_URL is set, otherwise an in-memory PGlite migrated here.
 */
export async function createTestDb(): Promise<DbHandle> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const handle = await openDb({ inMemory: true });
    await migrate(handle);
    return handle;
  }
  const name = `daybreak_test_${randomBytes(5).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${templateName()}"`);
  } finally {
    await admin.end();
  }
  const handle = await openDb({ url: withDatabase(serverUrl, name), poolSize: 4 });
  return {
    ...handle,
    async close() {
      await handle.close();
      const a = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await a.end();
    },
  };
}

/**
 * Runs `during` while another session holds `tables` locked (real PostgreSQL only): queries that
 * touch them wait until it returns, so requests started meanwhile are all in flight at once.
 */
export async function whileLocked(handle: DbHandle, tables: string[], during: () => Promise<void>) {
  const raw = handle.raw;
  if (!raw || !("url" in raw)) throw new Error("whileLocked needs PostgreSQL (TEST_DATABASE_URL)");
  const locker = postgres(raw.url, { max: 1, onnotice: () => {} });
  try {
    await locker.begin(async (tx) => {
      await tx.unsafe(`lock table ${tables.map((t) => `"${t}"`).join(", ")} in access exclusive mode`);
      await during();
    });
  } finally {
    await locker.end();
  }
}
