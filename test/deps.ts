import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { loadConfig } from "../src/config.ts";
import type { DbHandle } from "../src/db/client.ts";
import { createDeps, type DepsOverrides } from "../src/deps.ts";
import type { Mailer, OutgoingEmail } from "../src/integrations/mail/mailer.ts";
import { fixedClock } from "../src/lib/clock.ts";
import { silentLogger } from "../src/lib/logger.ts";
import { createTestDb } from "./db.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789";

/** A mailer that keeps what it was given, for assertions. */
export function recordingMailer(): Mailer & { sent: OutgoingEmail[] } {
  const sent: OutgoingEmail[] = [];
  return {
    sent,
    async send(email) {
      sent.push(email);
      return { messageId: email.messageId ?? `<${sent.length}@test>` };
    },
    async close() {},
  };
}

/** Deps over a test database: fixed clock, silent logger, recording mailer, temp data dir. */
export async function createTestDeps(
  dbHandle: DbHandle,
  opts: { env?: Record<string, string>; now?: string } & DepsOverrides = {},
) {
  const { env, now, ...overrides } = opts;
  const dataDir = mkdtempSync(join(tmpdir(), "daybreak-test-"));
  const config = loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN, LOG_LEVEL: "silent", ...env });
  const clock = fixedClock(now ?? "2026-11-27T06:30:00Z");
  const mailer = recordingMailer();
  const deps = await createDeps(config, {
    dbHandle,
    clock,
    logger: silentLogger,
    mailer,
    llm: null,
    ...overrides,
  });
  return { ...deps, clock, mailer, dataDir };
}

/**
 * A test database and deps over it for every test of the calling file: opened before its first
 * test, closed after its last. Read `t.deps` and `t.db` inside tests.
 */
export function useTestDeps(opts: Parameters<typeof createTestDeps>[1] = {}) {
  const t = {} as { db: DbHandle; deps: Awaited<ReturnType<typeof createTestDeps>> };
  beforeAll(async () => {
    t.db = await createTestDb();
    t.deps = await createTestDeps(t.db, opts);
  });
  afterAll(async () => {
    await t.db?.close();
  });
  return t;
}
