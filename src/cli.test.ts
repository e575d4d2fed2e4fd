import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createTestDb } from "../test/db.ts";
import { progressBar } from "./cli.ts";

const bin = join(import.meta.dirname, "..", "bin", "daybreak.js");

function daybreak(args: string[], env: Record<string, string | undefined> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "daybreak-cli-"));
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, DATABASE_URL: "", DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { ...r, dataDir };
}

describe("the daybreak command", () => {
  it("demo prints at least three stories with cited domains and writes the email with article links", () => {
    const r = daybreak(["demo"]);
    expect(r.status, r.stderr).toBe(0);
    const stories = r.stdout
      .split("\n")
      .filter((l) => /^\s+\d+\. .+\(([\w.-]+\.\w+)(, [\w.-]+\.\w+)*\)$/.test(l));
    expect(stories.length).toBeGreaterThanOrEqual(3);
    const file = r.stdout.match(/Email HTML: (.+\.html)/)?.[1];
    expect(file && existsSync(file)).toBe(true);
    const html = readFileSync(file!, "utf8");
    const hrefs = [...html.matchAll(/href="(https:[^"]+)"/g)].map((m) => m[1]!.replace(/&#x2F;/g, "/"));
    expect(hrefs.filter((h) => /\.example\/2026\/11\/26\//.test(h)).length).toBeGreaterThanOrEqual(3);
    // The email also reached the local outbox as a real MIME message.
    const eml = r.stdout.match(/Email \(\.eml\): (.+\.eml)/)?.[1];
    expect(eml && readFileSync(eml, "utf8")).toMatch(/Content-Type: multipart\/alternative/);
  }, 120_000);

  it("exits non-zero with one clear line on bad configuration", () => {
    const r = daybreak(["migrate"], { PORT: "abc" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `daybreak: invalid configuration: PORT="abc" must be a number`,
    ]);
  });

  it("exits non-zero with one clear line when the database cannot be reached", () => {
    const r = daybreak(["migrate"], { DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^daybreak: cannot reach the database at postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere/,
    );
  });

  it("refuses a --date that is not a real date, or is after today everywhere, in one line", () => {
    const bad = daybreak(["generate", "--date", "2026-02-30"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe("daybreak: --date 2026-02-30 is not a real date as YYYY-MM-DD");
    const future = daybreak(["send", "--date", "9999-12-31"]);
    expect(future.status).toBe(1);
    expect(future.stderr.trim()).toBe("daybreak: --date 9999-12-31 is after today in every time zone");
  }, 120_000);

  it("tick enqueues what is due and works it off through the job queue, then exits", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "daybreak-cli-"));
    const feed = readdirSync(join(import.meta.dirname, "..", "samples", "feeds"))[0]!;
    expect(daybreak(["sources", "add", `sample:${feed}`], { DATA_DIR: dataDir }).status).toBe(0);
    const tick = daybreak(["tick"], { DATA_DIR: dataDir });
    expect(tick.status, tick.stderr).toBe(0);
    expect(tick.stdout).toMatch(/planned 1 source fetches and 0 briefings/);
    // The fetch job ran before tick returned: the source is healthy.
    const list = daybreak(["sources", "list"], { DATA_DIR: dataDir });
    expect(list.stdout).toMatch(/\[ok\]/);
  }, 120_000);
});

describe("progressBar", () => {
  it("stays whole when more was done than was due", () => {
    expect(progressBar(45, 30, 10)).toBe("[##########]");
    expect(progressBar(0, 30, 10)).toBe("[----------]");
    expect(progressBar(15, 30, 10)).toBe("[#####-----]");
  });
});

/** A loopback port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe.skipIf(!process.env.TEST_DATABASE_URL)("daybreak serve", () => {
  it("stops on SIGTERM: the command is the service's own process, not a wrapper around it", async () => {
    const db = await createTestDb();
    const url = (db.raw as { url: string }).url;
    const port = await freePort();
    const child = spawn(process.execPath, [bin, "serve"], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        PORT: String(port),
        DATA_DIR: mkdtempSync(join(tmpdir(), "daybreak-serve-")),
        LOG_LEVEL: "silent",
        SERVE_WORKERS: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => d.toString().includes("listening") && resolve());
        child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
      });
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const exited = new Promise<number | null>((r) => child.once("exit", r));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      child.kill("SIGKILL");
      await db.close();
    }
  }, 60_000);
});
