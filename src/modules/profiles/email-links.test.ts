import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { createTestDeps } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { subscribers } from "../../db/schema/index.ts";
import { generateBriefings } from "../briefings/index.ts";
import { sendDueBriefings } from "../delivery/index.ts";
import { createSubscriber, getSubscriber, linkToken } from "./index.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  ({ db, deps } = await withSampleNews());
  app = createApp(deps);
});
afterAll(async () => {
  await db.close();
});

/** The profile every subscriber of these tests has: only the address differs. */
const analyst = (email: string) => ({
  email,
  role: "Analyst",
  industry: "Banking",
  timezone: "UTC",
  deliveryTime: "07:00",
});

async function mailFor(email: string) {
  const { subscriber } = await createSubscriber(deps, analyst(email));
  await generateBriefings(deps, { subscriberIds: [subscriber.id] });
  await sendDueBriefings(deps, { subscriberIds: [subscriber.id] });
  return { subscriber, mail: deps.mailer.sent.find((m) => m.to === email)! };
}
const path = (url: string) => new URL(url).pathname;

describe("links in every email", () => {
  it("carries RFC 8058 one-click unsubscribe headers whose POST unsubscribes at once", async () => {
    const { subscriber, mail } = await mailFor("leave@example.com");
    expect(mail.headers!["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    // Only the one-click URL: a mailto would need a mailbox that someone reads.
    const listed = mail.headers!["List-Unsubscribe"]!;
    expect(listed).toMatch(/^<https?:\/\/[^<>,]+>$/);
    const url = listed.slice(1, -1);
    expect((await app.request(path(url))).status).toBe(200);
    const res = await app.request(path(url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    expect((await getSubscriber(deps, subscriber.id)).status).toBe("unsubscribed");
    expect(mail.text).toContain(url);
  });

  it("refuses a tampered token, and the preferences page saves changes for the next briefing", async () => {
    const { subscriber, mail } = await mailFor("prefs@example.com");
    const prefs = mail.text.match(/Manage preferences: (\S+)/)![1]!;
    const tampered = path(prefs).replace(/.$/, (ch) => (ch === "a" ? "b" : "a"));
    expect((await app.request(tampered)).status).toBe(404);
    expect((await app.request(path(prefs))).status).toBe(200);
    const save = await app.request(path(prefs), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        deliveryTime: "06:30",
        timezone: "Asia/Tokyo",
        briefingLength: "8",
        paused: "true",
      }).toString(),
    });
    expect(save.status).toBe(200);
    const after = await getSubscriber(deps, subscriber.id);
    expect(after).toMatchObject({
      deliveryTime: "06:30",
      timezone: "Asia/Tokyo",
      briefingLength: 8,
      status: "paused",
    });
    const bad = await app.request(path(prefs), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ timezone: "Nowhere/Land" }).toString(),
    });
    expect(bad.status).toBe(400);
  });
});

describe("muted outlets and topics on the preferences page", () => {
  it("shows them, one per line, and saves them changed, emptied, or sent back as shown", async () => {
    const { subscriber } = await createSubscriber(deps, {
      ...analyst("mutes@example.com"),
      mutedSources: ["harborledger.example", "Daily <Bugle>"],
      mutedTopics: ["celebrity gossip"],
    });
    const path = `/preferences/${linkToken(deps.config.linkSecret, "preferences", subscriber.id)}`;
    const page = await (await app.request(path)).text();
    expect(page).toContain(
      '<textarea id="mutedSources" name="mutedSources" rows="3">harborledger.example\nDaily &lt;Bugle&gt;</textarea>',
    );
    expect(page).toContain(
      '<textarea id="mutedTopics" name="mutedTopics" rows="3">celebrity gossip</textarea>',
    );
    const post = (fields: Record<string, string>) =>
      app.request(path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      });
    // Undoing "Hide this outlet": the line taken out, the other kept.
    expect(
      (await post({ mutedSources: "Daily <Bugle>\r\n", mutedTopics: "celebrity gossip\r\nsports" })).status,
    ).toBe(200);
    expect(await getSubscriber(deps, subscriber.id)).toMatchObject({
      mutedSources: ["Daily <Bugle>"],
      mutedTopics: ["celebrity gossip", "sports"],
    });
    expect((await post({ mutedSources: "", mutedTopics: "sports" })).status).toBe(200);
    expect(await getSubscriber(deps, subscriber.id)).toMatchObject({
      mutedSources: [],
      mutedTopics: ["sports"],
    });
  });
});

describe("the preferences form under hostile input", () => {
  /** A subscriber (with `status`) and the path of their preferences page. */
  async function withPreferences(email: string, status = "active") {
    const { subscriber } = await createSubscriber(deps, { ...analyst(email), briefingLength: 5 });
    await deps.db.update(subscribers).set({ status }).where(eq(subscribers.id, subscriber.id));
    const path = `/preferences/${linkToken(deps.config.linkSecret, "preferences", subscriber.id)}`;
    return { subscriber: await getSubscriber(deps, subscriber.id), path };
  }
  const save = (path: string, body: string | Uint8Array<ArrayBuffer>) =>
    app.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
  /** The form page again, and the field errors it shows. */
  async function refused(res: Response) {
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toContain('<form method="post" action="/preferences/');
    return [...page.matchAll(/<p class="error">([^<]*)<\/p>/g)].map((m) => m[1]!.replace(/&quot;/g, '"'));
  }

  it("understands only the Deliveries values the page sends; any other is named, never read as active", async () => {
    const { subscriber, path } = await withPreferences("paused-values@example.com", "paused");
    for (const value of ["yes", "on", "1", "TRUE", "", "true "]) {
      const errors = await refused(await save(path, `paused=${encodeURIComponent(value)}&role=Changed`));
      expect(errors, value).toEqual(['paused: must be "true" (paused) or "false" (active)']);
    }
    expect(await getSubscriber(deps, subscriber.id)).toEqual(subscriber);
    expect((await save(path, "paused=false")).status).toBe(200);
    expect((await getSubscriber(deps, subscriber.id)).status).toBe("active");
    expect((await save(path, "paused=true")).status).toBe(200);
    expect((await getSubscriber(deps, subscriber.id)).status).toBe("paused");
  });

  it("answers 415 to a body that is not a form, changing nothing (it would read as no fields)", async () => {
    const { subscriber, path } = await withPreferences("json-preferences@example.com", "paused");
    for (const [type, body] of [
      ["application/json", JSON.stringify({ paused: "false", role: "Changed" })],
      ["text/plain", "paused=false&role=Changed"],
      ["", "paused=false&role=Changed"],
    ] as const) {
      const res = await app.request(path, {
        method: "POST",
        headers: type ? { "content-type": type } : {},
        body,
      });
      expect(res.status, type).toBe(415);
      const page = await res.text();
      expect(page).toContain('<form method="post" action="/preferences/');
      expect(page).toContain("must be the form as a browser sends it");
    }
    expect(await getSubscriber(deps, subscriber.id)).toEqual(subscriber);
    const multipart = new FormData();
    multipart.set("paused", "false");
    expect((await app.request(path, { method: "POST", body: multipart })).status).toBe(200);
    expect((await getSubscriber(deps, subscriber.id)).status).toBe("active");
  });

  it("answers 400, never 500, for a multipart body that does not parse, and changes nothing", async () => {
    const { subscriber, path } = await withPreferences("cut-multipart@example.com");
    const res = await app.request(path, {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=XX" },
      body: '--XX\r\nContent-Disposition: form-data; name="role"\r\n\r\nCut',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(await getSubscriber(deps, subscriber.id)).toEqual(subscriber);
  });

  it("takes stories per briefing as decimal digits only", async () => {
    const { subscriber, path } = await withPreferences("length-digits@example.com");
    for (const value of ["0x5", "5.0", " 5 ", "1e1", "+5", "-5", "٥", "Infinity"]) {
      const errors = await refused(await save(path, `briefingLength=${encodeURIComponent(value)}`));
      expect(errors, value).toEqual(["briefingLength: must be a whole number from 3 to 12"]);
    }
    expect(await refused(await save(path, "briefingLength=13"))).toEqual(["briefingLength: must be 3 to 12"]);
    expect(await getSubscriber(deps, subscriber.id)).toEqual(subscriber);
    expect((await save(path, "briefingLength=8")).status).toBe(200);
    expect((await getSubscriber(deps, subscriber.id)).briefingLength).toBe(8);
  });

  it("says what saving means for each status, and never resumes an unsubscribed or bounced subscriber", async () => {
    const expected: Record<string, string> = {
      active: "Saved. Your next briefing follows these settings.",
      paused: "Saved. Deliveries are paused: no briefing is sent until you set Deliveries to Active.",
      unsubscribed: "Saved, but you are unsubscribed, so no briefing is sent.",
      bounced: "Saved, but no briefing is sent: emails to status-bounced@example.com bounced.",
      pending:
        "Saved. Your first briefing follows these settings once you confirm your subscription with the link we emailed you.",
    };
    for (const [status, note] of Object.entries(expected)) {
      const { subscriber, path } = await withPreferences(`status-${status}@example.com`, status);
      const res = await save(path, "role=Trader");
      expect(res.status, status).toBe(200);
      const page = (await res.text()).replace(/&#39;/g, "'");
      expect(page, status).toContain(`<p class="ok">${note}</p>`);
      // Pausing is offered only where it means something.
      expect(page.includes('<select id="paused"'), status).toBe(status === "active" || status === "paused");
      expect(await getSubscriber(deps, subscriber.id), status).toMatchObject({ role: "Trader", status });
    }
    const { subscriber, path } = await withPreferences("stays-unsubscribed@example.com", "unsubscribed");
    await save(path, "paused=false");
    expect((await getSubscriber(deps, subscriber.id)).status).toBe("unsubscribed");
  });

  it("shows interests one per line and stores the page sent back unchanged as it was, commas and all", async () => {
    const { subscriber, path } = await withPreferences("commas@example.com");
    await deps.db
      .update(subscribers)
      .set({ interests: ["Mergers, acquisitions", "AI"] })
      .where(eq(subscribers.id, subscriber.id));
    const page = await (await app.request(path)).text();
    const shown = page.match(/<textarea id="interests"[^>]*>([^<]*)<\/textarea>/)![1]!;
    expect(shown).toBe("Mergers, acquisitions\nAI");
    const saved = await save(
      path,
      new URLSearchParams({ interests: shown.replace(/\n/g, "\r\n") }).toString(),
    );
    expect(saved.status).toBe(200);
    expect((await getSubscriber(deps, subscriber.id)).interests).toEqual(["Mergers, acquisitions", "AI"]);
  });

  it("re-shows the form naming each field whose text does not decode or cannot be stored; nothing stored", async () => {
    const { subscriber, path } = await withPreferences("hostile-text@example.com");
    expect(await refused(await save(path, "role=%zz&industry=%E0%A4%A"))).toEqual([
      "role: must be valid text",
      "industry: must be valid text",
    ]);
    expect(await refused(await save(path, "role=a%00b&timezone=UTC"))).toEqual(["role: must be valid text"]);
    expect(await refused(await save(path, "interests=ports%2C+%ED%A0%80"))).toEqual([
      "interests: must be valid text",
    ]);
    // Raw bytes that are not UTF-8 (a browser escapes every non-ASCII byte).
    const bytes = new Uint8Array([...Buffer.from("industry=a"), 0xff]);
    expect(await refused(await save(path, bytes))).toEqual(["industry: must be valid text"]);
    const multipart = new FormData();
    multipart.set("role", "a\u0000b");
    expect(await refused(await app.request(path, { method: "POST", body: multipart }))).toEqual([
      "role: must be valid text",
    ]);
    expect(await getSubscriber(deps, subscriber.id)).toEqual(subscriber);

    // Escaped text as a browser sends it is stored exactly.
    expect((await save(path, "role=R%26D+lead+%2B+caf%C3%A9&industry=%EF%BF%BD")).status).toBe(200);
    expect(await getSubscriber(deps, subscriber.id)).toMatchObject({
      role: "R&D lead + café",
      industry: "\uFFFD",
    });
  });
});
