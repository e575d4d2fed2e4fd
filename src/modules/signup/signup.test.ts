import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { createTestDeps } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { authCodes, subscribers } from "../../db/schema/index.ts";
import { getBriefingForDate } from "../briefings/index.ts";
import { findSubscriberByEmail } from "../profiles/index.ts";

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

const post = (fields: Record<string, string>) =>
  app.request("/signup", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });

/** A form post of the body exactly as given: what a script, not a browser, may send. */
const postRaw = (body: string | Uint8Array<ArrayBuffer>) =>
  app.request("/signup", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });

const postJson = (body: string) =>
  app.request("/signup", { method: "POST", headers: { "content-type": "application/json" }, body });

/** The form's error message shown under `field` and tied to it (aria-describedby), or null. */
const shownError = (page: string, field: string) => {
  const m = page.match(
    new RegExp(
      `<input id="${field}"([^>]*)>(?:<div class="hint"[^>]*>[^<]*</div>)?<div class="error" id="${field}-error">([^<]*)</div>`,
    ),
  );
  if (!m) return null;
  expect(m[1]).toContain(`aria-invalid="true"`);
  expect(m[1]).toMatch(new RegExp(`aria-describedby="[^"]*${field}-error`));
  return m[2]!;
};

const subscriberRows = (email: string) =>
  deps.db.select().from(subscribers).where(sql`lower(${subscribers.email}) = lower(${email})`);

const confirmCodes = (subscriberId: string) =>
  deps.db
    .select()
    .from(authCodes)
    .where(and(eq(authCodes.subscriberId, subscriberId), eq(authCodes.purpose, "confirm")));

const mailsTo = (email: string) => deps.mailer.sent.filter((m) => m.to === email);

describe("sign-up", () => {
  it("serves a plain form whose only script, allowed by hash alone, guesses the time zone", async () => {
    const res = await app.request("/signup");
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('<form method="post" action="/signup">');
    expect(body.match(/<script/g)).toHaveLength(1);
    expect(body).toContain("resolvedOptions().timeZone");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'$/);
    expect(csp).not.toContain("unsafe-inline'; script");
  });

  it("sends a double opt-in email; the link confirms, builds the first briefing, and says so when followed again", async () => {
    const res = await post({
      email: "new@example.com",
      role: "Supply chain director",
      industry: "Semiconductors",
      interests: "export controls, AI",
      timezone: "Europe/London",
      deliveryTime: "07:00",
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Check your inbox");
    const pending = await findSubscriberByEmail(deps, "new@example.com");
    expect(pending!.status).toBe("pending");
    expect(pending!.interests).toEqual(["export controls", "AI"]);

    const mail = deps.mailer.sent.at(-1)!;
    expect(mail.to).toBe("new@example.com");
    expect(mail.subject).toBe("Confirm your Daybreak subscription");
    const link = mail.text.match(/http:\/\/localhost:3000(\/signup\/confirm\/[\w-]+)/)?.[1];
    expect(link).toBeTruthy();
    expect(mail.html.replace(/&#x2F;/g, "/")).toContain(link!);

    const confirmed = await app.request(link!);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain("You're in");
    const active = await findSubscriberByEmail(deps, "new@example.com");
    expect(active!.status).toBe("active");
    const briefing = await getBriefingForDate(deps, active!.id, "2026-11-27");
    expect(briefing.items.length).toBeGreaterThan(0);

    // A mail scanner may have opened the link first: the reader's own click is told it is done.
    const again = await app.request(link!);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain("confirmed already");
    expect((await app.request("/signup/confirm/not-a-code")).status).toBe(404);
    // What the form's free text says never reaches the inbox: anyone may type any address.
    expect(`${mail.text}${mail.html}`).not.toContain("Supply chain director");
    expect(`${mail.text}${mail.html}`).not.toContain("Semiconductors");
    expect(mail.text).toContain("07:00, Europe/London");
  });

  it("takes back a reader who unsubscribed or whose address bounced: a new link, their profile untouched by the form, active once confirmed", async () => {
    for (const [email, left] of [
      ["left@example.com", "unsubscribed"],
      ["bounced@example.com", "bounced"],
    ] as const) {
      const form = {
        email,
        role: "Credit analyst",
        industry: "Banking",
        timezone: "UTC",
        deliveryTime: "07:00",
      };
      await post(form);
      await app.request(
        mailsTo(email)
          .at(-1)!
          .text.match(/http:\/\/localhost:3000(\/signup\/confirm\/[\w-]+)/)![1]!,
      );
      const reader = (await findSubscriberByEmail(deps, email))!;
      await deps.db.update(subscribers).set({ status: left }).where(eq(subscribers.id, reader.id));
      deps.clock.advance(120_000);

      // Signing up again sends a confirmation link; nothing is delivered until it is followed.
      const res = await post({ ...form, role: "Chief risk officer", deliveryTime: "06:30" });
      expect(await res.text()).toContain("Check your inbox");
      const back = (await findSubscriberByEmail(deps, email))!;
      // Anyone may type the address: nothing about the reader changes before the link is followed.
      expect(back).toMatchObject({ status: left, role: "Credit analyst", deliveryTime: "07:00" });
      const link = mailsTo(email)
        .at(-1)!
        .text.match(/http:\/\/localhost:3000(\/signup\/confirm\/[\w-]+)/)![1]!;
      expect((await app.request(link)).status).toBe(200);
      expect((await findSubscriberByEmail(deps, email))!.status).toBe("active");
    }
  });

  it("re-shows the form naming the bad fields, and creates nothing", async () => {
    const res = await post({
      email: "not-an-email",
      role: "",
      industry: "X",
      timezone: "Mars/Base",
      deliveryTime: "25:00",
    });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain("must be an email address");
    expect(body).toContain("must be an IANA time zone");
    expect(await findSubscriberByEmail(deps, "not-an-email")).toBeUndefined();
  });

  it("takes a JSON body like the form, interests as a list", async () => {
    const res = await postJson(
      JSON.stringify({ email: "q@x.com", role: "r", industry: "i", interests: [" a ", "b, c", ""] }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("Check your inbox");
    const pending = await findSubscriberByEmail(deps, "q@x.com");
    expect(pending!.status).toBe("pending");
    // A list's items are taken whole; only the form's one text field is split on commas.
    expect(pending!.interests).toEqual(["a", "b, c"]);
    expect(pending!.timezone).toBe("UTC");

    await postJson(JSON.stringify({ email: "q2@x.com", role: "r", industry: "i", interests: "a, b" }));
    expect((await findSubscriberByEmail(deps, "q2@x.com"))!.interests).toEqual(["a", "b"]);
  });

  it("keeps every value of a repeated interests field in a form post", async () => {
    const body = new URLSearchParams([
      ["email", "repeat@example.com"],
      ["role", "r"],
      ["industry", "i"],
      ["interests", "ports, shipping"],
      ["interests", "tariffs"],
    ]);
    const res = await app.request("/signup", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    });
    expect(res.status).toBe(200);
    expect((await findSubscriberByEmail(deps, "repeat@example.com"))!.interests).toEqual([
      "ports, shipping",
      "tariffs",
    ]);
  });

  it("re-shows the form naming each JSON field that is not text, as a form post with it wrong", async () => {
    const res = await postJson(JSON.stringify({ email: 1, role: "r", industry: "i" }));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    const page = await res.text();
    expect(page).toContain('<form method="post" action="/signup">');
    expect(shownError(page, "email")).toBe("must be text");
    expect(shownError(page, "role")).toBeNull();
    expect(page).toContain('id="role" name="role" type="text" value="r"');
    expect(page).toContain('id="email" name="email" type="email" value=""');

    const many = await postJson(
      JSON.stringify({
        email: "many@example.com",
        role: { a: 1 },
        industry: null,
        interests: ["ok", 2],
        timezone: 7,
        deliveryTime: ["07:00"],
      }),
    );
    expect(many.status).toBe(400);
    const manyPage = await many.text();
    expect(shownError(manyPage, "role")).toBe("must be text");
    expect(shownError(manyPage, "industry")).toBe("must not be empty"); // null is a missing field
    expect(shownError(manyPage, "interests")).toBe("must be text or a list of text");
    expect(shownError(manyPage, "timezone")).toBe("must be text");
    expect(shownError(manyPage, "deliveryTime")).toBe("must be text");
    expect(shownError(manyPage, "email")).toBeNull();
    expect(await findSubscriberByEmail(deps, "many@example.com")).toBeUndefined();

    // The same answer as the form post: the same messages for the same wrong values.
    const asJson = await postJson(
      JSON.stringify({ email: "not-an-email", role: "", industry: "X", timezone: "Mars/Base" }),
    );
    const asForm = await post({ email: "not-an-email", role: "", industry: "X", timezone: "Mars/Base" });
    expect(asJson.status).toBe(400);
    expect(await asJson.text()).toBe(await asForm.text());
  });

  it("re-shows the form naming a field holding a NUL, as HTML, and stores and sends nothing", async () => {
    const mails = deps.mailer.sent.length;
    for (const [body, field] of [
      ["email=nul%40example.com&role=a%00b&industry=i", "role"],
      ["email=nul%40example.com&role=r&industry=i\u0000", "industry"],
      ["email=nul%40example.com&role=r&industry=i&interests=ports%2C+a%00b", "interests"],
      ["email=nul%40example.com&role=r&industry=i&timezone=UTC%00", "timezone"],
    ] as const) {
      const res = await postRaw(body);
      expect(res.status, body).toBe(400);
      expect(res.headers.get("content-type"), body).toContain("text/html");
      const page = await res.text();
      expect(page, body).toContain('<form method="post" action="/signup">');
      expect(shownError(page, field), body).toBe("must be valid text");
      // The bad value is not echoed back; the good ones are kept for the reader.
      expect(page, body).not.toContain("\u0000");
      expect(page, body).toContain('id="email" name="email" type="email" value="nul@example.com"');
    }
    expect(await findSubscriberByEmail(deps, "nul@example.com")).toBeUndefined();
    expect(deps.mailer.sent).toHaveLength(mails);
  });

  it("re-shows the form naming each field whose %-escapes or bytes do not decode, and stores nothing", async () => {
    const res = await postRaw(
      "email=pct%40example.com&role=%zz&industry=%E0%A4%A&interests=ok%2C+%ED%A0%80&deliveryTime=07%3A0%",
    );
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    const page = await res.text();
    for (const field of ["role", "industry", "interests", "deliveryTime"]) {
      expect(shownError(page, field), field).toBe("must be valid text");
    }
    expect(shownError(page, "email")).toBeNull();
    expect(page).not.toContain("\uFFFD");
    expect(await findSubscriberByEmail(deps, "pct@example.com")).toBeUndefined();

    // Raw bytes that are not UTF-8 (a browser escapes every non-ASCII byte) are refused alike.
    const bytes = new Uint8Array([...Buffer.from("email=raw%40example.com&role=r&industry=a"), 0xff, 0x62]);
    const raw = await postRaw(bytes);
    expect(raw.status).toBe(400);
    expect(shownError(await raw.text(), "industry")).toBe("must be valid text");
    expect(await findSubscriberByEmail(deps, "raw@example.com")).toBeUndefined();
  });

  it("stores escaped text exactly as typed: +, %2B, non-ASCII, and an escaped U+FFFD", async () => {
    const res = await postRaw(
      "email=exact%40example.com&role=R%26D+lead+%2B+caf%C3%A9&industry=%EF%BF%BD+%F0%9F%9A%A2&interests=a%2Cb",
    );
    expect(res.status).toBe(200);
    const stored = await findSubscriberByEmail(deps, "exact@example.com");
    expect(stored).toMatchObject({ role: "R&D lead + café", industry: "\uFFFD 🚢", interests: ["a", "b"] });
  });

  it("re-shows the form naming a multipart field holding a NUL", async () => {
    const form = new FormData();
    form.set("email", "multipart@example.com");
    form.set("role", "a\u0000b");
    form.set("industry", "i");
    const res = await app.request("/signup", { method: "POST", body: form });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(shownError(await res.text(), "role")).toBe("must be valid text");
    expect(await findSubscriberByEmail(deps, "multipart@example.com")).toBeUndefined();
  });

  it("answers 400, never 500, for a multipart body that does not parse, and creates nothing", async () => {
    for (const [type, body] of [
      ["multipart/form-data; boundary=XX", "--XX\r\nContent-Disp"],
      ["multipart/form-data", "email=cut@example.com&role=r&industry=i"],
    ] as const) {
      const res = await app.request("/signup", { method: "POST", headers: { "content-type": type }, body });
      expect(res.status, type).toBe(400);
      expect(res.headers.get("content-type"), type).toContain("application/problem+json");
      expect(((await res.json()) as { detail: string }).detail).toContain(
        "not a well-formed multipart/form-data",
      );
    }
    expect(await findSubscriberByEmail(deps, "cut@example.com")).toBeUndefined();
  });

  it("answers 400, never 500, for a JSON body that is not an object", async () => {
    for (const body of ["null", "[]", '"q@x.com"', "1", "true", "{"]) {
      const res = await postJson(body);
      expect(res.status, body).toBe(400);
      expect(res.headers.get("content-type"), body).toContain("application/problem+json");
    }
  });

  it("answers 30 parallel sign-ups for one new address alike, with one pending subscriber and one email", async () => {
    const email = "race@example.com";
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => post({ email, role: "r", industry: "i" })),
    );
    const pages = await Promise.all(answers.map((r) => r.text()));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    for (const r of answers) expect(r.headers.get("content-type")).toContain("text/html");
    for (const p of pages) expect(p).toContain("Check your inbox");
    expect(new Set(pages).size).toBe(1);

    const rows = await subscriberRows(email);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe("pending");
    expect(await confirmCodes(rows[0]!.id)).toHaveLength(1);
    expect(mailsTo(email)).toHaveLength(1);
  });

  it("sends a pending address no second email within a minute of the first, and a new link after it", async () => {
    const email = "again@example.com";
    const start = deps.clock.now();
    try {
      expect((await post({ email, role: "r", industry: "i" })).status).toBe(200);
      deps.clock.advance(30_000);
      const again = await Promise.all(
        Array.from({ length: 5 }, () => post({ email, role: "r", industry: "i" })),
      );
      expect(again.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(mailsTo(email)).toHaveLength(1);

      deps.clock.advance(31_000);
      const later = await Promise.all(
        Array.from({ length: 5 }, () => post({ email, role: "r", industry: "i" })),
      );
      expect(later.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const mails = mailsTo(email);
      expect(mails).toHaveLength(2);
      const [subscriber] = await subscriberRows(email);
      expect(await confirmCodes(subscriber!.id)).toHaveLength(2);

      // Either link confirms; the first one used makes the other answer 404.
      const link = (m: (typeof mails)[number]) =>
        m.text.match(/http:\/\/localhost:3000(\/signup\/confirm\/[\w-]+)/)![1]!;
      expect((await app.request(link(mails[1]!))).status).toBe(200);
      expect((await findSubscriberByEmail(deps, email))!.status).toBe("active");

      // Confirmed: a sign-up again gets the same page and no email.
      const confirmedAgain = await post({ email, role: "r", industry: "i" });
      expect(confirmedAgain.status).toBe(200);
      expect(await confirmedAgain.text()).toContain("Check your inbox");
      expect(mailsTo(email)).toHaveLength(2);
    } finally {
      deps.clock.set(start);
    }
  });

  it("confirms, by each link, the details of the form that sent it; nothing changes before a link is followed", async () => {
    const start = deps.clock.now();
    const link = (m: { text: string }) =>
      m.text.match(/http:\/\/localhost:3000(\/signup\/confirm\/[\w-]+)/)![1]!;
    const corrected = {
      role: "Analyst",
      industry: "Insurance",
      timezone: "Asia/Tokyo",
      interests: "reinsurance",
    };
    try {
      // A typo, fixed in a second form a few minutes later: the second email's link confirms the fix.
      await post({ email: "typo@example.com", role: "Anlayst", industry: "Banking", timezone: "UTC" });
      deps.clock.advance(120_000);
      await post({ email: "typo@example.com", ...corrected });
      const [, second] = mailsTo("typo@example.com");
      expect(second!.text).toContain("07:00, Asia/Tokyo");
      expect(await findSubscriberByEmail(deps, "typo@example.com")).toMatchObject({
        status: "pending",
        role: "Anlayst",
      });
      expect((await app.request(link(second!))).status).toBe(200);
      expect(await findSubscriberByEmail(deps, "typo@example.com")).toMatchObject({
        status: "active",
        ...corrected,
        interests: ["reinsurance"],
      });
      // Someone else's later form for an address: its owner's own link confirms what they sent.
      await post({ email: "owner@example.com", role: "Economist", industry: "Banking" });
      deps.clock.advance(120_000);
      await post({ email: "owner@example.com", role: "Intruder", industry: "Spam" });
      const [first] = mailsTo("owner@example.com");
      expect((await app.request(link(first!))).status).toBe(200);
      expect(await findSubscriberByEmail(deps, "owner@example.com")).toMatchObject({
        status: "active",
        role: "Economist",
        industry: "Banking",
      });
    } finally {
      deps.clock.set(start);
    }
  });

  it("sends one address at most five confirmation emails a day, however often the form is sent", async () => {
    const email = "flooded@example.com";
    const start = deps.clock.now();
    try {
      for (let i = 0; i < 8; i++) {
        expect((await post({ email, role: "r", industry: "i" })).status).toBe(200);
        deps.clock.advance(61_000);
      }
      expect(mailsTo(email)).toHaveLength(5);
      deps.clock.advance(24 * 3600_000);
      expect((await post({ email, role: "r", industry: "i" })).status).toBe(200);
      expect(mailsTo(email)).toHaveLength(6);
    } finally {
      deps.clock.set(start);
    }
  });

  it("sends the link on a retry straight after a sign-up whose email could not be sent", async () => {
    const email = "mailfail@example.com";
    const send = deps.mailer.send;
    deps.mailer.send = async () => {
      throw new Error("relay refused");
    };
    try {
      expect((await post({ email, role: "r", industry: "i" })).status).toBe(500);
    } finally {
      deps.mailer.send = send;
    }
    const [subscriber] = await subscriberRows(email);
    expect(await confirmCodes(subscriber!.id)).toEqual([]);
    const retry = await post({ email, role: "r", industry: "i" });
    expect(retry.status).toBe(200);
    expect(mailsTo(email)).toHaveLength(1);
  });
});
