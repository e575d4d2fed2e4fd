import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../test/db.ts";
import { createTestDeps } from "../../test/deps.ts";
import { type SmtpSink, startSmtpServer } from "../../test/smtp-server.ts";
import { type DbHandle, rowsOf } from "../db/client.ts";
import { subscribers } from "../db/schema/index.ts";
import { sampleFeedsDir } from "../deps.ts";
import { type JobQueue, openJobQueue } from "../integrations/queue/job-queue.ts";
import { silentLogger } from "../lib/logger.ts";
import { planDailyRun, QUEUE_SPECS } from "./daily-run.ts";
import { runIngest } from "./pipeline.ts";
import { seedSampleSources } from "./sample-data.ts";

/**
 * The worst morning, on loopback: 1,000 subscribers due, two worker processes killed with
 * SIGKILL at random moments (and restarted) 20 times, the database dropping every connection
 * twice, and an SMTP relay that hangs up, answers 421 for a while and refuses five mailboxes
 * with 550. At the end every deliverable subscriber has exactly one email, no briefing is
 * missing, and every failure is recorded with its reason.
 *
 * Needs the real server (separate processes cannot share the in-memory PGlite): skipped
 * without TEST_DATABASE_URL. The workers run on the system clock, so each subscriber's delivery
 * time is set to ten minutes before their local "now": due at once, and no zone reaches its next
 * delivery time while the drill runs (a run that crossed New York's midnight with a 00:00 delivery
 * time used to find a second day due halfway through).
 */
const SUBSCRIBERS = 1000;
const KILLS = 20;
const ZONES = [
  "UTC",
  "Europe/London",
  "America/New_York",
  "Asia/Tokyo",
  "Pacific/Kiritimati",
  "America/St_Johns",
];
const rejected = Array.from({ length: 5 }, (_, i) => `bounce${i}@example.com`);
const root = join(import.meta.dirname, "..", "..");

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let sink: SmtpSink;
let queue: JobQueue;
const workers = new Set<ChildProcess>();

function startWorker(url: string, dataDir: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "src", "main.ts"), "worker"], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: "6",
      SMTP_URL: sink.url,
      DATA_DIR: dataDir,
      LINK_SECRET: "fault-drill-link-secret-0123456789",
      SAMPLE_DATA: "false",
      LOG_LEVEL: "silent",
      JOB_TIMEOUT_SECONDS: "4",
      QUEUE_MAINTENANCE_SECONDS: "1",
      DELIVERY_CLAIM_TIMEOUT_SECONDS: "4",
      WORKER_CONCURRENCY: "4",
    },
    stdio: "ignore",
  });
  workers.add(child);
  child.once("exit", () => workers.delete(child));
  return child;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ten minutes before the local time now in `zone` ("00:00" when midnight is that recent). */
function justPassed(zone: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date());
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const minutes = Math.max(0, part("hour") * 60 + part("minute") - 10);
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

async function counts() {
  const rows = rowsOf<{ status: string; n: number }>(
    await deps.db.execute(sql`select status, count(*)::int as n from deliveries group by status`),
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) as Record<string, number>;
}

describe.skipIf(!process.env.TEST_DATABASE_URL)("the daily run under faults", () => {
  beforeAll(async () => {
    db = await createTestDb();
    deps = await createTestDeps(db, { now: new Date().toISOString() });
    await seedSampleSources(deps, sampleFeedsDir);
    await runIngest(deps);
    const rows = Array.from({ length: SUBSCRIBERS }, (_, i) => ({
      email: i < rejected.length ? rejected[i]! : `reader${i}@example.com`,
      role: i % 2 ? "Supply chain director" : "Chief risk officer",
      industry: i % 2 ? "Semiconductors" : "Banking",
      timezone: ZONES[i % ZONES.length]!,
      deliveryTime: justPassed(ZONES[i % ZONES.length]!),
    }));
    await deps.db.insert(subscribers).values(rows);
    sink = await startSmtpServer({
      temporary: { code: 421, times: 3 },
      dropConnections: 2,
      rejectRecipients: rejected,
    });
    queue = await openJobQueue(db, QUEUE_SPECS, silentLogger, {
      jobTimeoutSeconds: 4,
      maintenanceIntervalSeconds: 1,
      poolSize: 2,
    });
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await queue?.stop(5_000);
    await sink?.close();
    await db?.close();
  });

  it("sends every due subscriber exactly one email through 20 SIGKILLs, connection resets and SMTP faults", async () => {
    const url = (db.raw as { url: string }).url;
    const dataDir = mkdtempSync(join(tmpdir(), "daybreak-faults-"));
    startWorker(url, dataDir);
    startWorker(url, dataDir);
    const plan = await planDailyRun(deps, queue);
    expect(plan.planned).toBe(SUBSCRIBERS);

    // Kill a random worker every 0.3-1.2 s and start another in its place.
    for (let kill = 1; kill <= KILLS; kill++) {
      await sleep(300 + Math.random() * 900);
      const victims = [...workers];
      const victim = victims[Math.floor(Math.random() * victims.length)];
      if (victim) {
        victim.kill("SIGKILL");
        await new Promise((r) => victim.once("exit", r));
      }
      startWorker(url, dataDir);
      if (kill === 7 || kill === 14) {
        // The database drops every connection of the run's database (a failover, a restart).
        await deps.db.execute(
          sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
        );
      }
    }

    // Let the run finish: planning again picks up deliveries whose worker died, and a retry that
    // would wait minutes for its backoff is made due now (the only thing this drill fast-forwards).
    const deadline = Date.now() + 150_000;
    let c = await counts();
    while (Date.now() < deadline) {
      c = await counts();
      if ((c.sent ?? 0) + (c.failed_permanent ?? 0) >= SUBSCRIBERS) break;
      await deps.db.execute(
        sql`update deliveries set next_attempt_at = now() where status = 'failed_retryable'`,
      );
      await planDailyRun({ ...deps, clock: { now: () => new Date() } }, queue);
      await sleep(1000);
    }
    // Every delivery finished: sent, or refused for good.
    expect((c.sent ?? 0) + (c.failed_permanent ?? 0)).toBe(SUBSCRIBERS);

    // Never two emails to anyone, none to the refused mailboxes.
    const perAddress = new Map<string, number>();
    for (const m of sink.received) for (const to of m.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    expect([...perAddress.values()].filter((n) => n > 1)).toEqual([]);
    for (const r of rejected) expect(perAddress.has(r)).toBe(false);
    // One email for every other subscriber, but for the one window no SMTP client can close: a
    // worker killed after recording 'sending' (the relay has the whole message but its end mark)
    // and before the end mark left. Such a delivery is closed as sent with the reason
    // "unconfirmed" rather than sent twice; with 20 kills a run meets it zero to a few times.
    const outcomes = rowsOf<{ email: string; status: string; last_error: string | null }>(
      await deps.db.execute(
        sql`select s.email, d.status, d.last_error from deliveries d join subscribers s on s.id = d.subscriber_id`,
      ),
    );
    const unconfirmed = (o: (typeof outcomes)[number]) =>
      o.status === "sent" && /^unconfirmed/.test(o.last_error ?? "");
    const missed = outcomes.filter((o) => !rejected.includes(o.email) && !perAddress.has(o.email));
    for (const o of missed)
      expect({ email: o.email, status: o.status, reason: o.last_error }).toMatchObject({
        status: "sent",
        reason: expect.stringMatching(/^unconfirmed/),
      });
    // A refused mailbox meets the same window (killed after 'sending', before the 550 was
    // recorded): it is closed as unconfirmed too, and still got nothing.
    const refusedUnconfirmed = outcomes.filter((o) => rejected.includes(o.email) && unconfirmed(o));
    expect(missed.length + refusedUnconfirmed.length).toBeLessThanOrEqual(KILLS);
    expect(perAddress.size).toBe(SUBSCRIBERS - rejected.length - missed.length);

    // No briefing lost; every failure recorded with its reason.
    const [briefings] = rowsOf<{ n: number }>(
      await deps.db.execute(sql`select count(*)::int as n from briefings`),
    );
    expect(Number(briefings!.n)).toBe(SUBSCRIBERS);
    const failures = outcomes.filter((o) => o.status === "failed_permanent");
    expect(failures.map((f) => f.email).sort()).toEqual(
      rejected.filter((r) => !refusedUnconfirmed.some((o) => o.email === r)).sort(),
    );
    expect(failures.every((f) => /550/.test(f.last_error ?? ""))).toBe(true);
    const [bounced] = rowsOf<{ n: number }>(
      await deps.db.execute(sql`select count(*)::int as n from subscribers where status = 'bounced'`),
    );
    expect(Number(bounced!.n)).toBe(failures.length);
  }, 300_000);
});
