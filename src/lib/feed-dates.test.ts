import { describe, expect, it } from "vitest";
import { parseFeedDate } from "./feed-dates.ts";

const iso = (s: string) => parseFeedDate(s)?.toISOString() ?? null;

describe("parseFeedDate", () => {
  it("reads RFC 822 and ISO 8601 dates as they are", () => {
    expect(iso("Mon, 24 Sep 2018 10:00:00 GMT")).toBe("2018-09-24T10:00:00.000Z");
    expect(iso("Wed, 1 Oct 2025 8:00:00 PDT")).toBe("2025-10-01T15:00:00.000Z");
    expect(iso("2018-09-24T10:00:00+02:00")).toBe("2018-09-24T08:00:00.000Z");
  });

  it("reads localized day and month names", () => {
    expect(iso("Seg, 24 Set 2018 10:00:00 -0300")).toBe("2018-09-24T13:00:00.000Z"); // pt
    expect(iso("Di, 24 Okt 2018 10:00:00 +0200")).toBe("2018-10-24T08:00:00.000Z"); // de
    expect(iso("Mié, 24 Dic 2018 10:00:00 +0100")).toBe("2018-12-24T09:00:00.000Z"); // es
    expect(iso("mar., 24 oct. 2018 10:00:00 +0200")).toBe("2018-10-24T08:00:00.000Z"); // fr
    expect(iso("Gio, 3 Mag 2018 07:30:00 +0200")).toBe("2018-05-03T05:30:00.000Z"); // it
    expect(iso("24 de setembro de 2018 10:00:00 -0300")).toBe("2018-09-24T13:00:00.000Z");
    expect(iso("24. Oktober 2018 10:00 +0200")).toBe("2018-10-24T08:00:00.000Z");
    // Month first.
    expect(iso("Okt 24, 2018 10:00 +0200")).toBe("2018-10-24T08:00:00.000Z");
    expect(iso("Dic 24, 2018 10:00:00 +0100")).toBe("2018-12-24T09:00:00.000Z");
  });

  it("does not read a localized weekday as a month", () => {
    // "Mar" opens a Spanish Tuesday; the month is September.
    expect(iso("Mar, 25 Sep 2018 10:00:00 +0200")).toBe("2018-09-25T08:00:00.000Z");
    expect(iso("Mar, 25 Set 2018 10:00:00 +0200")).toBe("2018-09-25T08:00:00.000Z");
  });

  it("reads European, Indian and other zone abbreviations Date.parse does not know", () => {
    expect(iso("Tue, 24 Nov 2026 10:00:00 CET")).toBe("2026-11-24T09:00:00.000Z");
    expect(iso("Mon, 14 Sep 2026 10:00:00 CEST")).toBe("2026-09-14T08:00:00.000Z");
    expect(iso("Mon, 14 Sep 2026 10:00:00 BST")).toBe("2026-09-14T09:00:00.000Z");
    expect(iso("Mon, 14 Sep 2026 10:00:00 IST")).toBe("2026-09-14T04:30:00.000Z");
    expect(iso("Mon, 14 Sep 2026 10:00:00 AEST")).toBe("2026-09-14T00:00:00.000Z");
    expect(iso("Mo, 14 Sep 2026 10:00:00 MESZ")).toBe("2026-09-14T08:00:00.000Z");
    expect(iso("Tue, 24 Nov 2026 10:00:00 +0200 (CEST)")).toBe("2026-11-24T08:00:00.000Z");
    expect(iso("Di, 24 Nov 2026 10:00:00 MEZ")).toBe("2026-11-24T09:00:00.000Z");
  });

  it("reads a date without a zone as UTC, whatever the server's zone", () => {
    const tz = process.env.TZ;
    process.env.TZ = "America/New_York";
    try {
      expect(iso("2026-11-24T10:00:00")).toBe("2026-11-24T10:00:00.000Z");
      expect(iso("2026-11-24 10:00")).toBe("2026-11-24T10:00:00.000Z");
      expect(iso("Tue, 24 Nov 2026 10:00:00")).toBe("2026-11-24T10:00:00.000Z");
      expect(iso("24 Okt 2026 10:00")).toBe("2026-10-24T10:00:00.000Z");
      expect(iso("2026-11-24")).toBe("2026-11-24T00:00:00.000Z");
      expect(iso("Tue, 24 Nov 2026 10:00:00 GMT+2")).toBe("2026-11-24T08:00:00.000Z");
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it("answers null for what is not a date", () => {
    expect(parseFeedDate("")).toBeNull();
    expect(parseFeedDate(undefined)).toBeNull();
    expect(parseFeedDate("yesterday-ish")).toBeNull();
    expect(parseFeedDate("Seg, 99 Foo 2018")).toBeNull();
  });
});
