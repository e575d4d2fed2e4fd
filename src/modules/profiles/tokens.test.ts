import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import { createApp } from "../../app.ts";
import type { DbHandle } from "../../db/client.ts";
import { createSubscriber, issueToken } from "./index.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  db = await createTestDb();
  deps = await createTestDeps(db);
  app = createApp(deps);
});
afterAll(async () => {
  await db.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
type TokenList = { tokens: { id: string; label: string; lastUsedAt: string | null; current: boolean }[] };
const profile = (email: string) => ({
  email,
  role: "Analyst",
  industry: "Banking",
  timezone: "UTC",
  deliveryTime: "07:00",
});

describe("GET /v1/tokens and DELETE /v1/tokens/{id}", () => {
  it("lists the subscriber's live tokens without their secrets, marking the one in use", async () => {
    const { subscriber, token } = await createSubscriber(deps, profile("list@example.com"));
    const phone = await issueToken(deps, subscriber.id, "phone");
    const res = await app.request("/v1/tokens", { headers: bearer(token) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(token);
    expect(text).not.toContain(phone);
    const { tokens } = JSON.parse(text) as TokenList;
    expect(tokens.map((t) => t.label).sort()).toEqual(["default", "phone"]);
    expect(tokens.filter((t) => t.current).map((t) => t.label)).toEqual(["default"]);
    expect(tokens.find((t) => t.current)!.lastUsedAt).toBe(deps.clock.now().toISOString());
    expect(tokens.find((t) => t.label === "phone")!.lastUsedAt).toBeNull();
  });

  it("revokes a token: it answers 401 at once, even right after it was used", async () => {
    const { subscriber, token } = await createSubscriber(deps, profile("revoke@example.com"));
    const lost = await issueToken(deps, subscriber.id, "lost phone");
    expect((await app.request("/v1/me", { headers: bearer(lost) })).status).toBe(200);
    const { tokens } = (await (
      await app.request("/v1/tokens", { headers: bearer(token) })
    ).json()) as TokenList;
    const id = tokens.find((t) => t.label === "lost phone")!.id;
    expect((await app.request(`/v1/tokens/${id}`, { method: "DELETE", headers: bearer(token) })).status).toBe(
      204,
    );
    expect((await app.request("/v1/me", { headers: bearer(lost) })).status).toBe(401);
    expect((await app.request("/v1/me", { headers: bearer(token) })).status).toBe(200);
    const after = (await (await app.request("/v1/tokens", { headers: bearer(token) })).json()) as TokenList;
    expect(after.tokens.map((t) => t.label)).toEqual(["default"]);
    // Revoking twice is not found: there is nothing live left to revoke.
    expect((await app.request(`/v1/tokens/${id}`, { method: "DELETE", headers: bearer(token) })).status).toBe(
      404,
    );
  });

  it("a subscriber may revoke the token they are using", async () => {
    const { token } = await createSubscriber(deps, profile("self@example.com"));
    const { tokens } = (await (
      await app.request("/v1/tokens", { headers: bearer(token) })
    ).json()) as TokenList;
    const res = await app.request(`/v1/tokens/${tokens[0]!.id}`, {
      method: "DELETE",
      headers: bearer(token),
    });
    expect(res.status).toBe(204);
    expect((await app.request("/v1/tokens", { headers: bearer(token) })).status).toBe(401);
  });

  it("answers 404 for another subscriber's token and leaves it working; 400 for a malformed id; 401 without a token", async () => {
    const owner = await createSubscriber(deps, profile("owner@example.com"));
    const other = await createSubscriber(deps, profile("other@example.com"));
    const { tokens } = (await (
      await app.request("/v1/tokens", { headers: bearer(owner.token) })
    ).json()) as TokenList;
    const theirs = await app.request(`/v1/tokens/${tokens[0]!.id}`, {
      method: "DELETE",
      headers: bearer(other.token),
    });
    const missing = await app.request("/v1/tokens/00000000-0000-4000-8000-000000000000", {
      method: "DELETE",
      headers: bearer(other.token),
    });
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(((await theirs.json()) as { detail: string }).detail).toBe(
      ((await missing.json()) as { detail: string }).detail,
    );
    expect((await app.request("/v1/me", { headers: bearer(owner.token) })).status).toBe(200);
    expect(
      (await app.request("/v1/tokens/nope", { method: "DELETE", headers: bearer(owner.token) })).status,
    ).toBe(400);
    expect((await app.request("/v1/tokens")).status).toBe(401);
  });

  it("shows a profile change at once although the token was just authenticated", async () => {
    const { token } = await createSubscriber(deps, profile("patch@example.com"));
    expect((await app.request("/v1/me", { headers: bearer(token) })).status).toBe(200);
    const patched = await app.request("/v1/me", {
      method: "PATCH",
      headers: { ...bearer(token), "content-type": "application/json" },
      body: JSON.stringify({ timezone: "Asia/Tokyo" }),
    });
    expect(patched.status).toBe(200);
    const me = (await (await app.request("/v1/me", { headers: bearer(token) })).json()) as {
      timezone: string;
    };
    expect(me.timezone).toBe("Asia/Tokyo");
  });

  it("refuses a token once its subscriber unsubscribed, although it was just authenticated", async () => {
    const { subscriber, token } = await createSubscriber(deps, profile("gone@example.com"));
    expect((await app.request("/v1/me", { headers: bearer(token) })).status).toBe(200);
    const { unsubscribe } = await import("./index.ts");
    await unsubscribe(deps, subscriber.id);
    expect((await app.request("/v1/me", { headers: bearer(token) })).status).toBe(401);
  });

  it("answers many readers signing in at once from shared lookups, each as themselves", async () => {
    const readers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => createSubscriber(deps, profile(`crowd${i}@example.com`))),
    );
    const revoked = await issueToken(deps, readers[0]!.subscriber.id, "revoked");
    const { tokens } = (await (
      await app.request("/v1/tokens", { headers: bearer(readers[0]!.token) })
    ).json()) as TokenList;
    const revokedId = tokens.find((t) => t.label === "revoked")!.id;
    await app.request(`/v1/tokens/${revokedId}`, { method: "DELETE", headers: bearer(readers[0]!.token) });
    // All asked in the same tick: one batch holds live, revoked and unknown tokens together.
    const asked = [...readers.map((r) => r.token), revoked, "dbk_not-a-token-anyone-holds"];
    const answers = await Promise.all(asked.map((t) => app.request("/v1/me", { headers: bearer(t) })));
    expect(answers.map((a) => a.status)).toEqual([...readers.map(() => 200), 401, 401]);
    const emails = await Promise.all(
      answers.slice(0, readers.length).map(async (a) => ((await a.json()) as { email: string }).email),
    );
    expect(emails).toEqual(readers.map((_, i) => `crowd${i}@example.com`));
    const list = (await (
      await app.request("/v1/tokens", { headers: bearer(readers[7]!.token) })
    ).json()) as TokenList;
    expect(list.tokens[0]!.lastUsedAt).toBe(deps.clock.now().toISOString());
  });
});
