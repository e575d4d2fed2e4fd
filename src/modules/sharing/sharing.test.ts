import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../../test/db.ts";
import { ADMIN_TOKEN, createTestDeps } from "../../../test/deps.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { groupAndSummarize } from "../../jobs/pipeline.ts";
import { submitArticle } from "../articles/index.ts";
import { createSubscriber } from "../profiles/index.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;
let storyId = "";
let sharer = { token: "", email: "" };
let other = { token: "" };

// Entity-escaped in the source, so the stored text literally contains the markup.
const XSS = `&lt;script&gt;alert("x")&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`;

beforeAll(async () => {
  db = await createTestDb();
  deps = await createTestDeps(db, { now: "2026-11-27T06:30:00Z" });
  app = createApp(deps);
  await submitArticle(deps, {
    url: "https://hostile.example/story",
    title: `Port of Valmora reopens ${XSS}`,
    text:
      `The Port of Valmora reopened on Friday after a three-day closure caused by a cyberattack ${XSS} on its booking systems, ` +
      "the port authority said. Shipping lines said the backlog of containers would take a week to clear, and " +
      "forwarders warned of higher storage charges for importers. The authority said no cargo data had been lost.",
  });
  const grouped = await groupAndSummarize(deps);
  storyId = grouped.storyIds[0]!;
  const a = await createSubscriber(deps, {
    email: "sharer@example.com",
    name: "Secret Sharer",
    role: "Analyst",
    industry: "Shipping",
    timezone: "UTC",
    deliveryTime: "07:00",
  });
  sharer = { token: a.token, email: "sharer@example.com" };
  const b = await createSubscriber(deps, {
    email: "b@example.com",
    role: "r",
    industry: "i",
    timezone: "UTC",
    deliveryTime: "07:00",
  });
  other = { token: b.token };
});
afterAll(async () => {
  await db.close();
});

const as = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
const shareAsSharer = async () =>
  (await (
    await app.request(`/v1/stories/${storyId}/share`, {
      method: "POST",
      headers: as(sharer.token),
      body: "{}",
    })
  ).json()) as {
    token: string;
  };
// DELETE carries no body.
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("shared stories", () => {
  it("makes a public page with the story, its citations, Open Graph tags and the invitation, nothing of the sharer", async () => {
    const res = await app.request(`/v1/stories/${storyId}/share`, {
      method: "POST",
      headers: as(sharer.token),
      body: "{}",
    });
    expect(res.status).toBe(201);
    const { url, token } = (await res.json()) as { url: string; token: string };
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(url).toBe(`http://localhost:3000/s/${token}`);

    const page = await app.request(`/s/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    // Revalidated each view (a revoked link stops at once) and kept out of search engines.
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(page.headers.get("x-robots-tag")).toBe("noindex");
    const body = await page.text();
    expect(body).toContain('property="og:title"');
    expect(body).toContain("Get your own daily briefing");
    expect(body).toContain("Shared from Daybreak");
    expect(body).toContain('href="https://hostile.example/story"');
    // Each sentence takes its own direction, and its citation stays left to right at its end
    // (after a sentence ending in Hebrew it was drawn inside it).
    expect(body).toContain('<h1 dir="auto">');
    expect(body).toMatch(
      /<li dir="auto">[^<]+<a class="cite" dir="ltr" href="https:\/\/hostile\.example\/story"/,
    );
    // The hostile headline stays text.
    expect(body).not.toContain("<script>alert");
    expect(body).not.toMatch(/<img[^>]+onerror/);
    expect(body).toContain("&lt;script&gt;");
    expect(body).not.toContain("<script");
    expect(body).not.toContain("Secret Sharer");
    expect(body).not.toContain(sharer.email);
  });

  it("answers 410 once revoked, and only the sharer can revoke, again if need be (404 for anyone else)", async () => {
    const { token } = await shareAsSharer();
    expect(
      (await app.request(`/v1/shares/${token}`, { method: "DELETE", headers: bearer(other.token) })).status,
    ).toBe(404);
    expect(
      (await app.request(`/v1/shares/${token}`, { method: "DELETE", headers: bearer(sharer.token) })).status,
    ).toBe(204);
    // Again (a retry after a lost answer): done already, still 204; still 404 for anyone else.
    expect(
      (await app.request(`/v1/shares/${token}`, { method: "DELETE", headers: bearer(sharer.token) })).status,
    ).toBe(204);
    expect(
      (await app.request(`/v1/shares/${token}`, { method: "DELETE", headers: bearer(other.token) })).status,
    ).toBe(404);
    const gone = await app.request(`/s/${token}`);
    expect(gone.status).toBe(410);
    expect(await gone.text()).toContain("no longer available");
    // Something that cannot be a token (a NUL reached PostgreSQL and answered 400) is not found.
    for (const bad of ["%00", `${token}%00`])
      expect(
        (await app.request(`/v1/shares/${bad}`, { method: "DELETE", headers: bearer(sharer.token) })).status,
      ).toBe(404);
  });

  it("answers 404 for an unknown link and for sharing a story that does not exist; 401 without a token", async () => {
    // Opened in a browser: a page like the 410's, inviting to sign up, not a problem document.
    for (const path of ["/s/not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaaaa", "/s/x"]) {
      const unknown = await app.request(path);
      expect(unknown.status, path).toBe(404);
      expect(unknown.headers.get("content-type"), path).toMatch(/^text\/html/);
      expect(unknown.headers.get("content-security-policy"), path).toBeTruthy();
      const page = await unknown.text();
      expect(page).toContain("does not lead to a story");
      expect(page).toContain("/signup");
    }
    // A link that picked up a closing slash or punctuation in a chat leads to its page.
    const { token } = await shareAsSharer();
    for (const suffix of ["/", ".", ")", "%29.", "%E2%80%9D"]) {
      const res = await app.request(`/s/${token}${suffix}`);
      expect(res.status, suffix).toBe(301);
      expect(res.headers.get("location"), suffix).toBe(`/s/${token}`);
    }
    expect((await app.request(`/s/${token}`)).status).toBe(200);
    for (const path of ["/s/x/", "/s/%0d%0aSet-Cookie:x=1/"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toMatch(/^text\/html/);
    }
    const missing = await app.request("/v1/stories/00000000-0000-4000-8000-000000000000/share", {
      method: "POST",
      headers: as(sharer.token),
      body: "{}",
    });
    expect(missing.status).toBe(404);
    expect((await app.request(`/v1/stories/${storyId}/share`, { method: "POST" })).status).toBe(401);
  });

  it("counts readers' views, not HEAD requests or link-preview bots", async () => {
    const { token } = await shareAsSharer();
    await app.request(`/s/${token}`);
    await app.request(`/s/${token}`, {
      headers: { "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1" },
    });
    expect((await app.request(`/s/${token}`, { method: "HEAD" })).status).toBe(200);
    for (const bot of [
      "facebookexternalhit/1.1",
      "Twitterbot/1.0",
      "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
      "WhatsApp/2.23.20.0",
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
      "LinkedInBot/1.0",
      "TelegramBot (like TwitterBot)",
    ]) {
      const res = await app.request(`/s/${token}`, { headers: { "user-agent": bot } });
      expect(res.status, bot).toBe(200);
    }
    const { shareLinks } = await import("../../db/schema/index.ts");
    const { eq } = await import("drizzle-orm");
    const [row] = await deps.db.select().from(shareLinks).where(eq(shareLinks.token, token));
    expect(row!.viewCount).toBe(2);
  });

  it("counts a reader once however often they reload, and again after half an hour", async () => {
    const { token } = await shareAsSharer();
    const phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1";
    const view = (address: string, userAgent = phone) =>
      app.request(`/s/${token}`, { headers: { "user-agent": userAgent, "x-forwarded-for": address } });
    for (let i = 0; i < 3; i++) expect((await view("198.51.100.7")).status).toBe(200);
    await view("203.0.113.50, 198.51.100.7"); // the same reader, an address of their own making before it
    await app.request(`/s/${token}`, {
      method: "HEAD",
      headers: { "user-agent": phone, "x-forwarded-for": "192.0.2.1" },
    });
    await view("192.0.2.1"); // a HEAD first does not make this reader's GET a repeat
    await view("203.0.113.9"); // someone else, the same phone model
    await view("198.51.100.7", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"); // the reader's laptop
    const views = async () => {
      const { shareLinks } = await import("../../db/schema/index.ts");
      const { eq } = await import("drizzle-orm");
      const [row] = await deps.db.select().from(shareLinks).where(eq(shareLinks.token, token));
      return row!.viewCount;
    };
    expect(await views()).toBe(4);
    deps.clock.advance(31 * 60_000);
    try {
      await view("198.51.100.7");
      expect(await views()).toBe(5);
    } finally {
      deps.clock.set("2026-11-27T06:30:00Z");
    }
  });

  it("lists the sharer's links newest first, page by page, with status and readers' views; no one else's", async () => {
    const lister = (
      await createSubscriber(deps, {
        email: "lister@example.com",
        role: "Analyst",
        industry: "Shipping",
        timezone: "UTC",
        deliveryTime: "07:00",
      })
    ).token;
    const share = async (body: object = {}) =>
      (await (
        await app.request(`/v1/stories/${storyId}/share`, {
          method: "POST",
          headers: as(lister),
          body: JSON.stringify(body),
        })
      ).json()) as { token: string };
    const revoked = await share();
    const expiring = await share({ expiresInDays: 1 });
    const read = await share();
    expect(
      (await app.request(`/v1/shares/${revoked.token}`, { method: "DELETE", headers: bearer(lister) }))
        .status,
    ).toBe(204);
    // Two readers, and one of them again (a reload is not a view).
    for (const address of ["198.51.100.1", "198.51.100.2", "198.51.100.2"])
      await app.request(`/s/${read.token}`, { headers: { "x-forwarded-for": address } });
    type Page = { items: Record<string, unknown>[]; nextCursor: string | null };
    const list = async (query = "") => {
      const res = await app.request(`/v1/shares${query}`, { headers: bearer(lister) });
      expect(res.status).toBe(200);
      return (await res.json()) as Page;
    };
    deps.clock.advance(2 * 86_400_000);
    try {
      const first = await list("?limit=2");
      expect(first.items.map((i) => i.token)).toEqual([read.token, expiring.token]);
      expect(first.items[0]).toEqual({
        token: read.token,
        url: `${deps.config.publicBaseUrl}/s/${read.token}`,
        storyId,
        headline: expect.stringContaining("Port of Valmora reopens"),
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        expiresAt: null,
        revokedAt: null,
        status: "live",
        views: 2,
      });
      expect(first.items[1]).toMatchObject({ status: "expired", views: 0, expiresAt: expect.any(String) });
      const second = await list(`?limit=2&cursor=${first.nextCursor}`);
      expect(second.items.map((i) => [i.token, i.status])).toEqual([[revoked.token, "revoked"]]);
      expect(second.items[0]!.revokedAt).toEqual(expect.any(String));
      expect(second.nextCursor).toBeNull();
      // API.md's `?cursor=&limit=` with both empty: the first page at the default size.
      expect((await list("?cursor=&limit=")).items).toHaveLength(3);
    } finally {
      deps.clock.set("2026-11-27T06:30:00Z");
    }
    const theirs = await app.request("/v1/shares", { headers: bearer(other.token) });
    const text = await theirs.text();
    for (const t of [revoked.token, expiring.token, read.token]) expect(text).not.toContain(t);
    // A cursor shaped right but naming no real instant is refused too, not sent to PostgreSQL.
    const forged = Buffer.from(
      `2026-02-30T10:00:00.000000Z_${"0".repeat(8)}-0000-4000-8000-${"0".repeat(12)}`,
    ).toString("base64url");
    expect((await app.request(`/v1/shares?cursor=${forged}`, { headers: bearer(lister) })).status).toBe(400);
    const bad = await app.request("/v1/shares?cursor=not-a-cursor&limit=0", { headers: bearer(lister) });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { errors: { location: string }[] };
    expect(problem.errors.map((e) => e.location).sort()).toEqual(["query.cursor", "query.limit"]);
  });

  it("pages through links made in the same instant, or the same millisecond, each exactly once", async () => {
    const { subscriber, token } = await createSubscriber(deps, {
      email: "burst@example.com",
      role: "Analyst",
      industry: "Shipping",
      timezone: "UTC",
      deliveryTime: "07:00",
    });
    const { shareLinks } = await import("../../db/schema/index.ts");
    const { sql } = await import("drizzle-orm");
    const instants = [
      "10:00:00.123456",
      "10:00:00.123456",
      "10:00:00.123456",
      "10:00:00.123100",
      "10:00:00.123900",
    ];
    const made = instants.map((t, k) => ({ token: `burst-link-${k}-aaaaaaaaaaaaaaaaaaaa`, at: t }));
    await deps.db.insert(shareLinks).values(
      made.map((m) => ({
        token: m.token,
        storyId,
        subscriberId: subscriber.id,
        createdAt: sql`${`2026-11-20T${m.at}Z`}::timestamptz`,
      })),
    );
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const res = await app.request(`/v1/shares?limit=2&cursor=${cursor}`, { headers: bearer(token) });
      const page = (await res.json()) as { items: { token: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((i) => i.token));
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(made.length);
    expect(new Set(seen)).toEqual(new Set(made.map((m) => m.token)));
    // Newest first: .123900, then the three at .123456, then .123100.
    expect(seen[0]).toBe(made[4]!.token);
    expect(seen[4]).toBe(made[3]!.token);
  });
});
void ADMIN_TOKEN;
