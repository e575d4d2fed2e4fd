import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { createSubscriber } from "./index.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  db = await createTestDb();
  deps = await createTestDeps(db);
  app = createApp(deps);
  await subscribe("App.User@example.com");
});
afterAll(async () => {
  await db.close();
});

const subscribe = (email: string) =>
  createSubscriber(deps, { email, role: "r", industry: "i", timezone: "UTC", deliveryTime: "07:00" });

const post = (path: string, body: unknown) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("magic-link sign-in", () => {
  it("emails a code that signs the app in once", async () => {
    expect((await post("/v1/auth/email", { email: "app.user@example.com" })).status).toBe(202);
    const mail = deps.mailer.sent.at(-1)!;
    const code = mail.subject.match(/: ([A-Z0-9]{8})$/)![1]!;
    const res = await post("/v1/auth/verify", { email: "app.user@example.com", code: code.toLowerCase() });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    expect((await app.request("/v1/me", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await post("/v1/auth/verify", { email: "app.user@example.com", code })).status).toBe(401);
  });

  it("answers the same for an unknown address and sends nothing", async () => {
    const before = deps.mailer.sent.length;
    expect((await post("/v1/auth/email", { email: "nobody@example.com" })).status).toBe(202);
    expect(deps.mailer.sent.length).toBe(before);
  });

  it("emails one address at most 5 codes an hour, answering every ask alike", async () => {
    await subscribe("flooded@example.com");
    const to = () => deps.mailer.sent.filter((m) => m.to === "flooded@example.com").length;
    for (let i = 0; i < 8; i++)
      expect((await post("/v1/auth/email", { email: "flooded@example.com" })).status).toBe(202);
    expect(to()).toBe(5);
    deps.clock.advance(61 * 60_000);
    expect((await post("/v1/auth/email", { email: "flooded@example.com" })).status).toBe(202);
    expect(to()).toBe(6);
  });

  it("limits tries at one address's codes: 429 with Retry-After, the right code included", async () => {
    await subscribe("guessed@example.com");
    await post("/v1/auth/email", { email: "guessed@example.com" });
    const code = deps.mailer.sent.at(-1)!.subject.match(/: ([A-Z0-9]{8})$/)![1]!;
    for (let i = 0; i < 10; i++)
      expect(
        (await post("/v1/auth/verify", { email: "guessed@example.com", code: `WRONG${i}AB` })).status,
      ).toBe(401);
    const throttled = await post("/v1/auth/verify", { email: "Guessed@example.com", code });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    // Other addresses are not held back, and the wait passes.
    expect((await post("/v1/auth/verify", { email: "app.user@example.com", code: "WRONG234" })).status).toBe(
      401,
    );
    deps.clock.advance(90_000);
    expect((await post("/v1/auth/verify", { email: "guessed@example.com", code })).status).toBe(200);
  });

  it("refuses a wrong or expired code", async () => {
    await post("/v1/auth/email", { email: "app.user@example.com" });
    const code = deps.mailer.sent.at(-1)!.subject.match(/: ([A-Z0-9]{8})$/)![1]!;
    expect((await post("/v1/auth/verify", { email: "app.user@example.com", code: "WRONG234" })).status).toBe(
      401,
    );
    deps.clock.advance(16 * 60_000);
    expect((await post("/v1/auth/verify", { email: "app.user@example.com", code })).status).toBe(401);
    expect((await post("/v1/auth/verify", { email: "bad", code: "x" })).status).toBe(400);
  });
});
