import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { createTestDeps } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
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

  it("sends a double opt-in email; the link confirms once and builds the first briefing", async () => {
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

    const again = await app.request(link!);
    expect(again.status).toBe(404);
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
});
