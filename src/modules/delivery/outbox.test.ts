import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSampleNews } from "../../../test/sample-news.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { createOutboxMailer } from "../../integrations/mail/mailer.ts";
import { generateBriefings } from "../briefings/index.ts";
import { createSubscriber } from "../profiles/index.ts";
import { sendDueBriefings } from "./delivery.service.ts";

let db: DbHandle;
let base: Awaited<ReturnType<typeof withSampleNews>>["deps"];
const dir = mkdtempSync(join(tmpdir(), "daybreak-outbox-"));
let app: ReturnType<typeof createApp>;
let names: string[] = [];

beforeAll(async () => {
  ({ db, deps: base } = await withSampleNews());
  const mailer = createOutboxMailer(dir, { from: base.config.MAIL_FROM, messageIdDomain: "localhost" });
  const deps = { ...base, mailer } as unknown as typeof base;
  app = createApp(deps);
  for (const local of ["first", "second"]) {
    const { subscriber } = await createSubscriber(deps, {
      email: `${local}@example.com`,
      role: "Analyst",
      industry: "Banking",
      timezone: "UTC",
      deliveryTime: "07:00",
    });
    await generateBriefings(deps, { subscriberIds: [subscriber.id] });
    await sendDueBriefings(deps, { subscriberIds: [subscriber.id] });
    await new Promise((r) => setTimeout(r, 20));
  }
  names = (await mailer.outbox!.list()).map((e) => e.name);
});
afterAll(async () => {
  await db.close();
});

describe("/dev/outbox", () => {
  it("is served to this machine alone: a request relayed by a proxy finds no such route", async () => {
    // Over a real socket, as `daybreak serve` answers: the outbox holds sign-in codes.
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((r) => server.once("listening", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${url}/dev/outbox`)).status).toBe(200);
      for (const path of ["/dev/outbox", `/dev/outbox/${names[0]}/raw`]) {
        const relayed = await fetch(`${url}${path}`, { headers: { "x-forwarded-for": "203.0.113.7" } });
        expect(relayed.status).toBe(404);
        expect(await relayed.text()).not.toContain("Daybreak");
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("lists the outbox newest first with recipient, subject and time", async () => {
    const res = await app.request("/dev/outbox");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const page = await res.text();
    expect(names).toHaveLength(2);
    const second = page.indexOf("second@example.com");
    const first = page.indexOf("first@example.com");
    expect(second).toBeGreaterThan(0);
    expect(first).toBeGreaterThan(second);
    expect(page).toContain("Fri 27 Nov: ");
    expect(page).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
  });

  it("previews one email: the HTML part in a sandboxed frame served under a no-script policy, and the text part", async () => {
    const res = await app.request(`/dev/outbox/${names[0]}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("frame-src 'self'");
    const page = await res.text();
    expect(page).toContain(`<iframe title="HTML part" sandbox src="/dev/outbox/${names[0]}/html">`);
    expect(page).toContain("Manage preferences: http://localhost");

    const part = await app.request(`/dev/outbox/${names[0]}/html`);
    expect(part.status).toBe(200);
    const csp = part.headers.get("content-security-policy")!;
    expect(csp).toContain("sandbox");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("script-src");
    expect(await part.text()).toMatch(/^<!doctype html>/i);

    const raw = await app.request(`/dev/outbox/${names[0]}/raw`);
    expect(await raw.text()).toContain("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
  });

  it("escapes what an email says about itself", async () => {
    const evil = `2020-01-01T00-00-00-000Z-evil.eml`;
    writeFileSync(
      join(dir, evil),
      'To: <script>alert(1)</script>@example.com\r\nSubject: "><img src=x onerror=alert(1)>\r\nDate: Wed, 1 Jan 2020 00:00:00 +0000\r\n\r\nhi <script>\r\n',
    );
    const list = await (await app.request("/dev/outbox")).text();
    expect(list).not.toContain("<script>alert(1)");
    expect(list).not.toContain("<img src=x");
    const one = await (await app.request(`/dev/outbox/${evil}`)).text();
    expect(one).not.toContain("<script>");
    expect(one).toContain("hi &lt;script&gt;");
  });

  it("answers 404 for names outside the outbox or not in it", async () => {
    for (const path of [
      "/dev/outbox/..%2F..%2Fetc%2Fpasswd",
      "/dev/outbox/nothing.eml",
      `/dev/outbox/${encodeURIComponent(`../${basename(dir)}/${names[0]}`)}`,
      "/dev/outbox/nothing.eml/html",
    ]) {
      expect((await app.request(path)).status, path).toBe(404);
    }
  });

  it("does not exist when mail goes to an SMTP relay", async () => {
    // The test deps' recording mailer stands in for SMTP: it has no outbox.
    const res = await createApp(base).request("/dev/outbox");
    expect(res.status).toBe(404);
  });
});
