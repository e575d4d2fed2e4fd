import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingMailer } from "../../../test/deps.ts";
import { withSampleNews } from "../../../test/sample-news.ts";
import type { DbHandle } from "../../db/client.ts";
import { deliveries, subscribers } from "../../db/schema/index.ts";
import type { Mailer, OutgoingEmail } from "../../integrations/mail/mailer.ts";
import { generateBriefings } from "../briefings/index.ts";
import { createSubscriber, updateProfile } from "../profiles/index.ts";
import { sendDueBriefings } from "./delivery.service.ts";
import { claimDueDeliveries, stalledDeliveries } from "./due.service.ts";

let db: DbHandle;
let deps: Awaited<ReturnType<typeof withSampleNews>>["deps"];
beforeAll(async () => {
  ({ db, deps } = await withSampleNews());
});
afterAll(async () => {
  await db.close();
});

/** A mailer that notes the clock's instant of every send. */
function timedMailer(): Mailer & { sends: { to: string; at: string; subject: string }[] } {
  const inner = recordingMailer();
  const sends: { to: string; at: string; subject: string }[] = [];
  return {
    sends,
    async send(email: OutgoingEmail) {
      sends.push({ to: email.to, at: deps.clock.now().toISOString(), subject: email.subject });
      return inner.send(email);
    },
    close: async () => {},
  };
}

let n = 0;
async function subscriber(timezone: string, deliveryTime: string, dates: string[]) {
  // Briefings are built from the sample news (27 November); only the schedule moves in time.
  deps.clock.set("2026-11-27T07:05:00Z");
  const { subscriber: s } = await createSubscriber(deps, {
    email: `tz${++n}@example.com`,
    role: "Economist",
    industry: "Banking",
    timezone,
    deliveryTime,
  });
  // Latest first: a briefing leaves out stories shown in the week before its date, and the
  // sample news is only enough for one briefing's worth of unseen stories.
  for (const date of [...dates].reverse()) await generateBriefings(deps, { subscriberIds: [s.id], date });
  return s;
}

/** Ticks every `stepMin` minutes (every expected instant falls on one) from `from` to `to`, as the scheduler does; returns the send instants. */
async function runSchedule(ids: string[], from: string, to: string, stepMin = 30) {
  const mailer = timedMailer();
  const withMailer = { ...deps, mailer };
  for (let t = Date.parse(from); t <= Date.parse(to); t += stepMin * 60_000) {
    deps.clock.set(new Date(t));
    await sendDueBriefings(withMailer, { subscriberIds: ids });
  }
  return mailer.sends;
}

describe("one briefing per local day at the local delivery time", { timeout: 60_000 }, () => {
  it("America/New_York across the spring-forward night: 07:00 moves from 12:00Z to 11:00Z; a 02:30 that does not exist goes at 03:00", async () => {
    const dates = ["2026-03-07", "2026-03-08", "2026-03-09"];
    const seven = await subscriber("America/New_York", "07:00", dates);
    const early = await subscriber("America/New_York", "02:30", dates);
    const sends = await runSchedule([seven.id, early.id], "2026-03-07T05:00:00Z", "2026-03-10T04:45:00Z");
    expect(sends.filter((s) => s.to === seven.email).map((s) => s.at)).toEqual([
      "2026-03-07T12:00:00.000Z",
      "2026-03-08T11:00:00.000Z",
      "2026-03-09T11:00:00.000Z",
    ]);
    expect(sends.filter((s) => s.to === early.email).map((s) => s.at)).toEqual([
      "2026-03-07T07:30:00.000Z",
      "2026-03-08T07:00:00.000Z", // 03:00 EDT, the first minute at or after 02:30 that day
      "2026-03-09T06:30:00.000Z",
    ]);
  });

  it("America/New_York across the fall-back night: a 01:30 that happens twice is sent at the first, once", async () => {
    const dates = ["2026-10-31", "2026-11-01", "2026-11-02"];
    const twice = await subscriber("America/New_York", "01:30", dates);
    const seven = await subscriber("America/New_York", "07:00", dates);
    const sends = await runSchedule([twice.id, seven.id], "2026-10-31T04:00:00Z", "2026-11-03T04:45:00Z");
    expect(sends.filter((s) => s.to === twice.email).map((s) => s.at)).toEqual([
      "2026-10-31T05:30:00.000Z",
      "2026-11-01T05:30:00.000Z", // 01:30 EDT; 01:30 EST an hour later is the same local date
      "2026-11-02T06:30:00.000Z",
    ]);
    expect(sends.filter((s) => s.to === seven.email).map((s) => s.at)).toEqual([
      "2026-10-31T11:00:00.000Z",
      "2026-11-01T12:00:00.000Z",
      "2026-11-02T12:00:00.000Z",
    ]);
  });

  it("Europe/London across both changes: a 01:30 skipped in March goes at 02:00 BST; repeated in October, once", async () => {
    const spring = await subscriber("Europe/London", "01:30", ["2026-03-28", "2026-03-29", "2026-03-30"]);
    const springSends = await runSchedule([spring.id], "2026-03-28T00:00:00Z", "2026-03-30T22:45:00Z");
    expect(springSends.map((s) => s.at)).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:00:00.000Z", // the clocks jump 01:00 GMT -> 02:00 BST
      "2026-03-30T00:30:00.000Z",
    ]);
    const autumn = await subscriber("Europe/London", "01:30", ["2026-10-24", "2026-10-25", "2026-10-26"]);
    const autumnSends = await runSchedule([autumn.id], "2026-10-23T23:00:00Z", "2026-10-26T23:45:00Z");
    expect(autumnSends.map((s) => s.at)).toEqual([
      "2026-10-24T00:30:00.000Z",
      "2026-10-25T00:30:00.000Z", // 01:30 BST; 01:30 GMT at 01:30Z is the same local date
      "2026-10-26T01:30:00.000Z",
    ]);
  });

  it("Pacific/Kiritimati (+14:00) and America/St_Johns (-03:30): the local date, not the UTC one, decides", async () => {
    const dates = ["2026-11-27", "2026-11-28"];
    const kiri = await subscriber("Pacific/Kiritimati", "07:00", dates);
    const stj = await subscriber("America/St_Johns", "07:00", dates);
    const sends = await runSchedule([kiri.id, stj.id], "2026-11-26T10:00:00Z", "2026-11-28T23:45:00Z");
    expect(sends.filter((s) => s.to === kiri.email).map((s) => s.at)).toEqual([
      "2026-11-26T17:00:00.000Z", // 07:00 on Friday 27 November, while it is still Thursday in UTC
      "2026-11-27T17:00:00.000Z",
    ]);
    expect(sends.filter((s) => s.to === kiri.email)[0]!.subject).toContain("Fri 27 Nov");
    expect(sends.filter((s) => s.to === stj.email).map((s) => s.at)).toEqual([
      "2026-11-27T10:30:00.000Z",
      "2026-11-28T10:30:00.000Z",
    ]);
  });
});

describe("a plan that comes late", () => {
  /** Plans and sends at each of these instants; returns the sends. */
  async function tickAt(ids: string[], instants: string[]) {
    const mailer = timedMailer();
    for (const at of instants) {
      deps.clock.set(at);
      await sendDueBriefings({ ...deps, mailer }, { subscriberIds: ids });
    }
    return mailer.sends;
  }
  const joined = (id: string, at: string) =>
    deps.db
      .update(subscribers)
      .set({ createdAt: new Date(at) })
      .where(eq(subscribers.id, id));

  it("still sends a 23:59 reader's day when the plans fall at 23:58:40 and 00:00:20, and only within three hours", async () => {
    const late = await subscriber("Europe/London", "23:59", ["2026-11-27"]);
    const missed = await subscriber("Europe/London", "23:30", ["2026-11-27"]);
    const newcomer = await subscriber("Europe/London", "23:59", ["2026-11-27"]);
    await joined(late.id, "2026-11-01T00:00:00Z");
    await joined(missed.id, "2026-11-01T00:00:00Z");
    // Joined after the 27th's 23:59: that day was never theirs.
    await joined(newcomer.id, "2026-11-28T00:00:10Z");
    await deps.db.update(subscribers).set({ confirmedAt: null }).where(eq(subscribers.id, newcomer.id));
    const sends = await tickAt(
      [late.id, missed.id, newcomer.id],
      ["2026-11-27T23:58:40Z", "2026-11-28T00:00:20Z", "2026-11-28T02:40:00Z"],
    );
    expect(sends.filter((s) => s.to === late.email).map((s) => [s.at, s.subject.includes("27 Nov")])).toEqual(
      [["2026-11-28T00:00:20.000Z", true]],
    );
    // 23:30 was planned at 23:58:40 as usual.
    expect(sends.filter((s) => s.to === missed.email).map((s) => s.at)).toEqual(["2026-11-27T23:58:40.000Z"]);
    expect(sends.filter((s) => s.to === newcomer.email)).toEqual([]);
    // The worker's planner (SQL) owes the same.
    const planned = await subscriber("Europe/London", "23:59", ["2026-11-27"]);
    await joined(planned.id, "2026-11-01T00:00:00Z");
    deps.clock.set("2026-11-27T23:58:40Z");
    expect((await claimDueDeliveries(deps)).filter((d) => d.subscriberId === planned.id)).toEqual([]);
    deps.clock.set("2026-11-28T00:00:20Z");
    expect((await claimDueDeliveries(deps)).filter((d) => d.subscriberId === planned.id)).toEqual([
      { subscriberId: planned.id, localDate: "2026-11-27" },
    ]);
    expect((await claimDueDeliveries(deps)).filter((d) => d.subscriberId === planned.id)).toEqual([]);
    // Across the spring-forward night (London, 29 March 2026: 01:00 GMT becomes 02:00 BST), three
    // hours are real hours in the planner and in the admin send alike: a 23:30 reader is still owed
    // the 28th at 01:45Z (02:15 after 23:30 in wall-clock time, 2h15 in real time).
    const spring = await subscriber("Europe/London", "23:30", ["2026-03-28"]);
    await joined(spring.id, "2026-03-01T00:00:00Z");
    deps.clock.set("2026-03-29T01:45:00Z");
    expect((await claimDueDeliveries(deps)).filter((d) => d.subscriberId === spring.id)).toEqual([
      { subscriberId: spring.id, localDate: "2026-03-28" },
    ]);
    // Past the three hours, a day the planner missed altogether is not sent late.
    const gone = await subscriber("Europe/London", "23:00", ["2026-11-27"]);
    await joined(gone.id, "2026-11-01T00:00:00Z");
    expect(await tickAt([gone.id], ["2026-11-28T02:01:00Z"])).toEqual([]);
  });
});

describe("deliveries left behind", () => {
  it("are sent again from today, and yesterday's while recent, never older: a reader paused for days gets no old email on resuming", async () => {
    const reader = await subscriber("Europe/London", "07:00", []);
    const night = await subscriber("Europe/London", "23:30", []);
    await deps.db.insert(deliveries).values([
      { subscriberId: reader.id, localDate: "2026-11-20", createdAt: new Date("2026-11-20T07:00:00Z") },
      // Planned yesterday morning, 22 hours ago: a day gone.
      { subscriberId: reader.id, localDate: "2026-11-22", createdAt: new Date("2026-11-22T07:00:00Z") },
      // Planned at 23:30 last night and left behind (a lost job, a retry): still sent.
      { subscriberId: night.id, localDate: "2026-11-22", createdAt: new Date("2026-11-22T23:30:00Z") },
    ]);
    deps.clock.set("2026-11-23T05:00:00Z");
    const ids = new Set([reader.id, night.id]);
    const stalled = (await stalledDeliveries(deps)).filter((d) => ids.has(d.subscriberId));
    expect(stalled).toEqual([{ subscriberId: night.id, localDate: "2026-11-22" }]);
  });
});

describe("a subscriber who changes time zone during the day", () => {
  it("moving west after the morning's email gets no second email that day, then the next day's at the new local time", async () => {
    const s = await subscriber("Europe/London", "07:00", ["2026-11-26", "2026-11-27", "2026-11-28"]);
    const before = await runSchedule([s.id], "2026-11-27T06:00:00Z", "2026-11-27T07:15:00Z");
    expect(before.map((x) => x.at)).toEqual(["2026-11-27T07:00:00.000Z"]);
    // At 07:30Z it is 23:30 on the 26th in Los Angeles, past 07:00 there: a briefing for the
    // 26th exists, but sending it would be a second email this morning.
    await updateProfile(deps, s.id, { timezone: "America/Los_Angeles" });
    const after = await runSchedule([s.id], "2026-11-27T07:30:00Z", "2026-11-28T16:00:00Z");
    expect(after.map((x) => x.at)).toEqual(["2026-11-28T15:00:00.000Z"]); // 07:00 PST on the 28th
  });

  it("moving east gets the new local date's briefing at its time, and never two for one local date", async () => {
    const s = await subscriber("Europe/London", "07:00", ["2026-11-27", "2026-11-28"]);
    const sends = await runSchedule([s.id], "2026-11-27T06:00:00Z", "2026-11-27T08:00:00Z");
    await updateProfile(deps, s.id, { timezone: "Pacific/Kiritimati" });
    // 08:30Z is 22:30 on the 27th in Kiritimati: already served. 07:00 on the 28th there is 17:00Z.
    sends.push(...(await runSchedule([s.id], "2026-11-27T08:30:00Z", "2026-11-28T12:00:00Z")));
    expect(sends.map((x) => x.at)).toEqual(["2026-11-27T07:00:00.000Z", "2026-11-27T17:00:00.000Z"]);
    expect(sends.map((x) => x.subject.match(/^(.*?):/)![1])).toEqual(["Fri 27 Nov", "Sat 28 Nov"]);
  });
});
