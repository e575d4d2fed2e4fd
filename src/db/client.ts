import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema/index.ts";

/** One database type for both drivers: services never know which one they run on. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;

/** What a job queue (pg-boss) needs to reach the same database: a URL, or raw SQL on PGlite. */
export type RawSql = {
  /** Runs SQL with $1..$n parameters, or a multi-statement script when there are none. */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
};

export type DbHandle = {
  db: Db;
  driver: "postgres" | "pglite";
  /** The server's URL (postgres) or raw SQL over the embedded database (pglite). */
  raw?: { url: string } | RawSql;
  /** Closes the pool or the embedded database. */
  close(): Promise<void>;
};

export type DbOptions = { url?: string; dataDir?: string; poolSize?: number; inMemory?: boolean };

/** postgres-js when a URL is given; otherwise an embedded PGlite in `dataDir` (or in memory). */
export async function openDb(opts: DbOptions): Promise<DbHandle> {
  if (opts.url) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const client = postgres(opts.url, {
      max: opts.poolSize ?? 10,
      onnotice: () => {},
      connect_timeout: 10,
      // bigint columns (SimHash) come back as JS bigint.
      types: { bigint: postgres.BigInt },
      // No JIT: Daybreak's statements are short, and PostgreSQL compiles one when its cost
      // estimate is high. Mid-morning, statistics from before it inflate the estimates of the
      // build's reads of last week's briefings: 180 ms of compiling for an 11 ms read, per batch
      // (measured on the next morning of 100,000 readers).
      connection: { jit: "off" },
    });
    try {
      await client`select 1`;
    } catch (err) {
      await client.end({ timeout: 1 }).catch(() => {});
      throw new DatabaseUnavailableError(opts.url, err);
    }
    const db = drizzle(client, { schema, casing: "snake_case" }) as unknown as Db;
    return { db, driver: "postgres", raw: { url: opts.url }, close: () => client.end({ timeout: 5 }) };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  let client: InstanceType<typeof PGlite>;
  if (opts.inMemory) client = new PGlite();
  else {
    const dir = join(opts.dataDir ?? ".data", "pglite");
    mkdirSync(dir, { recursive: true });
    client = new PGlite(dir);
  }
  await client.waitReady;
  const db = drizzle(client, { schema, casing: "snake_case" }) as unknown as Db;
  const raw: RawSql = {
    async executeSql(text, values) {
      // PGlite's extended protocol takes one statement; pg-boss sends its schema as a script.
      if (values && values.length > 0) return client.query(text, values);
      try {
        const results = await client.exec(text);
        return { rows: results.at(-1)?.rows ?? [] };
      } catch (err) {
        // A script that failed inside its own BEGIN would leave the one session aborted.
        await client.exec("ROLLBACK").catch(() => {});
        throw err;
      }
    },
  };
  return { db, driver: "pglite", raw, close: () => client.close() };
}

export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
  constructor(url: string, cause: unknown) {
    const safe = url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
    const why = cause instanceof Error ? cause.message || (cause as { code?: string }).code : String(cause);
    super(`cannot reach the database at ${safe}: ${why}`, { cause });
  }
}

/** Rows of a raw `db.execute`, whichever driver ran it (postgres-js answers an array, PGlite `{ rows }`). */
export function rowsOf<T = Record<string, unknown>>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
