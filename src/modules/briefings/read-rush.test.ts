import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, whileLocked } from "../../../test/db.ts";
import { createTestDeps } from "../../../test/deps.ts";
import { createApp } from "../../app.ts";
import type { Db, DbHandle } from "../../db/client.ts";
import { sampleFeedsDir } from "../../deps.ts";
import { runIngest } from "../../jobs/pipeline.ts";
import { seedSampleSources } from "../../jobs/sample-data.ts";
import { createSubscriber, listTokens, revokeToken } from "../profiles/index.ts";
import { generateBriefings } from "./index.ts";

// When every reader opens the app at once (the morning's push), the first reads find nothing in
// the API's memory: a reader's parallel screens, retries and second devices must then share one
// token lookup and one briefing load, not queue one each behind the others (bench:api's rush).
// The overlap is made certain by holding the tokens table locked while the reads arrive, which
// needs a second session: real PostgreSQL only.

let db: DbHandle;
let deps: Awaited<ReturnType<typeof createTestDeps>>;
beforeAll(async () => {
  db = await createTestDb();
  deps = await createTestDeps(db, { now: "2026-11-27T06:30:00Z" });
  await seedSampleSources(deps, sampleFeedsDir);
  await runIngest(deps);
});
afterAll(async () => {
  await db.close();
});

/** The database with each select() counted: every one is a query. */
function countingSelects(target: Db) {
  let selects = 0;
  const db = new Proxy(target, {
    get(t, key) {
      if (key === "select")
        return (...args: Parameters<Db["select"]>) => {
          selects++;
          return t.select(...args);
        };
      const value = Reflect.get(t, key, t);
      return typeof value === "function" ? value.bind(t) : value;
    },
  });
  return { db, selects: () => selects };
}

const profile = (email: string) => ({
  email,
  role: "CFO",
  industry: "Banking",
  timezone: "UTC",
  deliveryTime: "06:00",
});
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe.skipIf(!process.env.TEST_DATABASE_URL)("the first reads of a morning", () => {
  it("costs a reader's six reads at once what one read costs: one token lookup, one briefing load", async () => {
    const one = await createSubscriber(deps, profile("one@rush.example"));
    const six = await createSubscriber(deps, profile("six@rush.example"));
    expect((await generateBriefings(deps)).generated).toBe(2);
    const counted = countingSelects(deps.db);
    const app = createApp({ ...deps, db: counted.db });
    const read = (token: string) =>
      app.request("/v1/briefings/today", { headers: { authorization: `Bearer ${token}` } });

    const alone = await read(one.token);
    expect(alone.status).toBe(200);
    const oneReadCosts = counted.selects();
    expect(oneReadCosts).toBeGreaterThan(0);

    const reads: (Response | Promise<Response>)[] = [];
    await whileLocked(db, ["api_tokens"], async () => {
      // Each read arrives on its own turn of the event loop, as requests from sockets do, while
      // the first one's lookup waits.
      for (let i = 0; i < 6; i++) {
        reads.push(read(six.token));
        await nextTurn();
      }
    });
    const answers = await Promise.all(reads);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(answers.map((a) => a.headers.get("etag"))).size).toBe(1);
    expect(counted.selects() - oneReadCosts).toBe(oneReadCosts);
  });

  it("refuses a read that arrives after its token was revoked, while an earlier lookup is in flight", async () => {
    const reader = await createSubscriber(deps, profile("revoked@rush.example"));
    const [token] = await listTokens(deps, reader.subscriber.id);
    const app = createApp(deps);
    const me = () => app.request("/v1/me", { headers: { authorization: `Bearer ${reader.token}` } });
    let before: Response | Promise<Response> | undefined;
    let after: Response | Promise<Response> | undefined;
    // The lookup joins subscribers, which revoking (an update of api_tokens) does not touch.
    await whileLocked(db, ["subscribers"], async () => {
      before = me();
      await nextTurn();
      await revokeToken(deps, reader.subscriber.id, token!.id);
      after = me();
      await nextTurn();
    });
    // The earlier read may be answered either way (its lookup began before the revocation).
    await before;
    expect((await after!).status).toBe(401);
  });
});
