import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq, inArray, sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { createTestDeps } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import { type SmtpSink, startSmtpServer } from "../../../test/smtp-server.ts";
import { createApp } from "../../app.ts";
import { type DbHandle, rowsOf } from "../../db/client.ts";
import { deliveries, subscribers } from "../../db/schema/index.ts";
import { createSmtpMailer, type Mailer } from "../../integrations/mail/mailer.ts";
import { fixedClock } from "../../lib/clock.ts";
import { generateBriefings, getBriefingForDate } from "../briefings/index.ts";
import { createSubscriber } from "../profiles/index.ts";
import { sendDueBriefings } from "./delivery.service.ts";

const DATE = "2026-11-27";
let db: DbHandle;
let base: Awaited<ReturnType<typeof createTestDeps>>;
let sink: SmtpSink;
let mailer: Mailer;
let deps: typeof base;

beforeAll(async () => {
  ({ db, deps: base } = await withSampleNews());
  sink = await startSmtpServer();
  mailer = createSmtpMailer(sink.url, { from: base.config.MAIL_FROM, messageIdDomain: "localhost" });
  deps = { ...base, mailer } as unknown as typeof base;
});
afterAll(async () => {
  await mailer.close();
  await sink.close();
  await db.close();
});
beforeEach(() => {
  sink.setFaults({});
  base.clock.set("2026-11-27T07:05:00Z");
});

let n = 0;
async function subscriberWithBriefing(local = `reader${++n}`) {
  const { subscriber } = await createSubscriber(deps, {
    email: `${local}@example.com`,
    role: "Credit analyst",
    industry: "Banking",
    timezone: "UTC",
    deliveryTime: "07:00",
  });
  await generateBriefings(deps, { subscriberIds: [subscriber.id] });
  return subscriber;
}

const deliveryOf = async (subscriberId: string) =>
  (await deps.db.select().from(deliveries).where(eq(deliveries.subscriberId, subscriberId)))[0]!;
const fast = { retryDelaysMs: [5, 5] };
// Attribute values arrive HTML-escaped ("&" as "&amp;"); a browser reads them back as written.
const decodeEntities = (v: string) =>
  v
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&amp;/g, "&");

describe("briefing email through a real SMTP server", () => {
  it("arrives with its one-click unsubscribe headers, its Message-ID, a text and an HTML part, and only links that resolve", async () => {
    const s = await subscriberWithBriefing("links");
    expect(await sendDueBriefings(deps, { subscriberIds: [s.id] })).toMatchObject({ sent: 1 });
    const [mail] = sink.to(s.email);
    const parsed = await simpleParser(mail!.raw);
    const row = await deliveryOf(s.id);
    expect(parsed.messageId).toBe(`<${row.id}@localhost>`);
    expect(parsed.subject).toMatch(/^Fri 27 Nov: \S/);
    const list = parsed.headers.get("list") as Record<string, Record<string, string>>;
    expect(list.unsubscribe!.url).toMatch(/^http:\/\/localhost:\d+\/unsubscribe\//);
    expect(list.unsubscribe!.mail).toBeUndefined(); // no mailto: no one reads such a mailbox
    expect(list["unsubscribe-post"]).toEqual({ name: "List-Unsubscribe=One-Click" });
    expect(parsed.text).toContain("Manage preferences: http://localhost");
    expect(parsed.html).toContain("Manage preferences</a>");

    const briefing = await getBriefingForDate(deps, s.id, DATE);
    const cited = new Set(briefing.items.flatMap((i) => i.story.sources.map((src) => src.url)));
    const hrefs = [...(parsed.html as string).matchAll(/href="([^"]+)"/g)].map((m) => decodeEntities(m[1]!));
    const textUrls = [...parsed.text!.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]);
    const links = new Set([...hrefs, ...textUrls, list.unsubscribe!.url!]);
    expect(hrefs.length).toBeGreaterThan(3);
    // Per story: read, share and five feedback links, the same in both parts.
    const perStory = (part: string[]) =>
      ["read", "share", "feedback"].map((kind) => part.filter((l) => l.includes(`/${kind}/`)).length);
    const n = briefing.items.length;
    expect(perStory([...new Set(hrefs)])).toEqual([n, n, 5 * n]);
    expect(perStory(textUrls)).toEqual([n, n, 5 * n]);
    const app = createApp(deps);
    for (const link of links) {
      if (link.startsWith(deps.config.publicBaseUrl)) {
        const res = await app.request(link.slice(deps.config.publicBaseUrl.length));
        expect(res.status, link).toBeLessThan(400);
      } else {
        expect(cited.has(link), `${link} is a cited source`).toBe(true);
      }
    }
    // The one-click POST a mail client makes from the header.
    const post = await app.request(list.unsubscribe!.url!.slice(deps.config.publicBaseUrl.length), {
      method: "POST",
      body: new URLSearchParams({ "List-Unsubscribe": "One-Click" }),
    });
    expect(post.status).toBe(200);
    const [after] = await deps.db.select().from(subscribers).where(eq(subscribers.id, s.id));
    expect(after!.status).toBe("unsubscribed");
  });
});

describe("SMTP failures", () => {
  it("retries a 451 within the run and sends once", async () => {
    const s = await subscriberWithBriefing();
    sink.setFaults({ temporary: { code: 451, times: 2 } });
    expect(await sendDueBriefings(deps, { subscriberIds: [s.id], ...fast })).toMatchObject({ sent: 1 });
    expect(sink.to(s.email)).toHaveLength(1);
    expect(await deliveryOf(s.id)).toMatchObject({ status: "sent", attempts: 1 });
  });

  it("leaves a delivery retryable after repeated dropped connections and sends it on a later tick, once", async () => {
    const s = await subscriberWithBriefing();
    sink.setFaults({ dropConnections: 3 });
    expect(await sendDueBriefings(deps, { subscriberIds: [s.id], ...fast })).toMatchObject({ failed: 1 });
    const failed = await deliveryOf(s.id);
    expect(failed.status).toBe("failed_retryable");
    expect(failed.lastError).toMatch(/closed|connection/i);
    expect(failed.nextAttemptAt!.getTime()).toBe(deps.clock.now().getTime() + 60_000);

    // Before the backoff ends nothing is tried; after it, the email goes.
    expect(await sendDueBriefings(deps, { subscriberIds: [s.id], ...fast })).toMatchObject({ skipped: 1 });
    deps.clock.advance(61_000);
    expect(await sendDueBriefings(deps, { subscriberIds: [s.id], ...fast })).toMatchObject({ sent: 1 });
    expect(sink.to(s.email)).toHaveLength(1);
    expect(await deliveryOf(s.id)).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("when the relay refuses Daybreak itself (a 5xx about the sender), bounces no reader and sends once it is fixed", async () => {
    const a = await subscriberWithBriefing();
    const b = await subscriberWithBriefing();
    sink.setFaults({
      refuseSender: { code: 550, message: "5.1.8 Sender address rejected: domain not found" },
    });
    const ids = [a.id, b.id];
    expect(await sendDueBriefings(deps, { subscriberIds: ids, ...fast })).toMatchObject({ failed: 2 });
    for (const id of ids)
      expect(await deliveryOf(id)).toMatchObject({ status: "failed_retryable", attempts: 1 });
    const statuses = await deps.db
      .select({ status: subscribers.status })
      .from(subscribers)
      .where(inArray(subscribers.id, ids));
    expect(statuses.map((r) => r.status)).toEqual(["active", "active"]);

    // The operator fixes the sender; the next attempt delivers, once each.
    sink.setFaults({});
    deps.clock.advance(61_000);
    expect(await sendDueBriefings(deps, { subscriberIds: ids, ...fast })).toMatchObject({ sent: 2 });
    expect(sink.to(a.email)).toHaveLength(1);
    expect(sink.to(b.email)).toHaveLength(1);
  });

  it("on a 550 for the address marks the subscriber bounced, stops mailing it, and still mails the others", async () => {
    const gone = await subscriberWithBriefing("gone");
    const fine = await subscriberWithBriefing("fine");
    sink.setFaults({ rejectRecipients: [gone.email] });
    const ids = [gone.id, fine.id];
    expect(await sendDueBriefings(deps, { subscriberIds: ids, ...fast })).toMatchObject({
      sent: 1,
      failed: 1,
    });
    expect(await deliveryOf(gone.id)).toMatchObject({ status: "failed_permanent", attempts: 1 });
    const [row] = await deps.db.select().from(subscribers).where(eq(subscribers.id, gone.id));
    expect(row!.status).toBe("bounced");

    // The next day it is not tried at all.
    deps.clock.set("2026-11-28T07:05:00Z");
    await generateBriefings(deps, { subscriberIds: ids, date: "2026-11-28" });
    await sendDueBriefings(deps, { subscriberIds: ids, ...fast });
    expect(sink.to(gone.email)).toHaveLength(0);
    expect(sink.to(fine.email)).toHaveLength(2);
  });
});

describe("a sender that dies", () => {
  it("between handing the message over and recording it: the relay has one email and the day counts as sent", async () => {
    const s = await subscriberWithBriefing();
    // The message reaches the relay, then the sender fails before it can record anything.
    const dying: Mailer = {
      async send(email) {
        await mailer.send(email);
        throw new Error("process killed");
      },
      close: async () => {},
    };
    await sendDueBriefings({ ...deps, mailer: dying }, { subscriberIds: [s.id], ...fast });
    expect(await deliveryOf(s.id)).toMatchObject({ status: "sent" });
    deps.clock.advance(60 * 60_000);
    await sendDueBriefings(deps, { subscriberIds: [s.id], ...fast });
    expect(sink.to(s.email)).toHaveLength(1);
  });

  it("leaves nothing at the relay when it cannot record the hand-over, and the next run sends once", async () => {
    const s = await subscriberWithBriefing();
    const dying: Mailer = {
      send: (email) =>
        mailer.send({
          ...email,
          // Recording "sending" fails (the database went away): the message must not be committed.
          beforeCommit: async () => {
            throw new Error("connection to the database lost");
          },
        }),
      close: async () => {},
    };
    await sendDueBriefings({ ...deps, mailer: dying }, { subscriberIds: [s.id], retryDelaysMs: [] });
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.to(s.email)).toHaveLength(0);
    deps.clock.advance(60 * 60_000);
    await sendDueBriefings(deps, { subscriberIds: [s.id], ...fast });
    expect(sink.to(s.email)).toHaveLength(1);
  });
});

/**
 * The real `daybreak send` process, killed with SIGKILL by the SMTP server at the chosen moment,
 * then a restart in this process. Needs a PostgreSQL server both processes can reach.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)("the daybreak send process killed mid-send", () => {
  const require = createRequire(import.meta.url);
  const tsx = join(require.resolve("tsx/package.json"), "..", "dist", "esm", "index.mjs");

  async function killedSend(when: "claim" | "handover") {
    const [row] = rowsOf<{ name: string }>(await deps.db.execute(sql`select current_database() as name`));
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${row!.name}`;
    let child: ChildProcess | undefined;
    const kill = () =>
      new Promise<void>((resolve) => {
        child!.once("exit", () => resolve());
        child!.kill("SIGKILL");
      });
    let killed = false;
    sink.setFaults(
      when === "claim"
        ? {
            onMailFrom: async () => {
              if (!killed) {
                killed = true;
                await kill();
              }
            },
          }
        : {
            beforeAccept: async () => {
              if (!killed) {
                killed = true;
                await kill();
              }
            },
          },
    );
    child = spawn(process.execPath, ["--import", tsx, "src/main.ts", "send", "--date", DATE], {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: url.toString(),
        SMTP_URL: sink.url,
        LINK_SECRET: deps.config.linkSecret,
        DATA_DIR: mkdtempSync(join(tmpdir(), "daybreak-child-")),
        LOG_LEVEL: "silent",
        SAMPLE_DATA: "false",
      },
      stdio: "ignore",
    });
    const exit = await new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    sink.setFaults({});
    return { killed, exit };
  }

  // The child stamps its claim with the real time; the restart comes after the claim went stale.
  const restart = (ids: string[]) => {
    const later = fixedClock(new Date(Date.now() + 11 * 60_000));
    return sendDueBriefings({ ...deps, clock: later }, { date: DATE, subscriberIds: ids, ...fast });
  };

  it("after the claim, before the message: the restart sends exactly one email", {
    timeout: 90_000,
  }, async () => {
    const s = await subscriberWithBriefing("killed-claim");
    await deps.db
      .update(subscribers)
      .set({ status: "paused" })
      .where(and(eq(subscribers.status, "active"), sql`${subscribers.id} <> ${s.id}`));
    const { killed } = await killedSend("claim");
    expect(killed).toBe(true);
    expect(await deliveryOf(s.id)).toMatchObject({ status: "rendered" });
    expect(sink.to(s.email)).toHaveLength(0);
    expect(await restart([s.id])).toMatchObject({ sent: 1 });
    expect(sink.to(s.email)).toHaveLength(1);
  });

  it("after the relay has the message, before it is recorded: no second email on restart", {
    timeout: 90_000,
  }, async () => {
    const s = await subscriberWithBriefing("killed-handover");
    await deps.db
      .update(subscribers)
      .set({ status: "paused" })
      .where(and(eq(subscribers.status, "active"), sql`${subscribers.id} <> ${s.id}`));
    const { killed } = await killedSend("handover");
    expect(killed).toBe(true);
    expect(await deliveryOf(s.id)).toMatchObject({ status: "sending" });
    expect(sink.to(s.email)).toHaveLength(1);
    expect(await restart([s.id])).toMatchObject({ sent: 0 });
    expect(await deliveryOf(s.id)).toMatchObject({ status: "sent" });
    expect(sink.to(s.email)).toHaveLength(1);
  });
});
