import { describe, expect, it } from "vitest";
import { canonicalTimeZone, isCalendarDate, isStorableTime } from "./time.ts";

describe("dates and times the API takes", () => {
  it("takes real calendar dates from 1900 and nothing else", () => {
    for (const d of ["2026-11-29", "2024-02-29", "1900-01-01", "9999-12-31"])
      expect(isCalendarDate(d)).toBe(true);
    for (const d of [
      "2026-02-30",
      "2023-02-29",
      "0000-01-01",
      "1899-12-31",
      "99999-01-01",
      "2026-13-01",
      "2026-1-1",
    ])
      expect({ d, ok: isCalendarDate(d) }).toEqual({ d, ok: false });
  });

  it("takes ISO 8601 times as written, not what Date.parse makes of other text", () => {
    for (const t of [
      "2026-11-29T06:30:00Z",
      "2026-11-29T06:30:00.123+05:30",
      "2026-11-29",
      "2026-11-29T06:30+0100",
      "0001-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999Z",
    ])
      expect({ t, ok: isStorableTime(t) }).toEqual({ t, ok: true });
    // Date.parse read "2026-02-30" as 2 March and "-1" as the year 2001.
    for (const t of [
      "2026-02-30T00:00:00Z",
      "-1",
      "0000-01-01",
      "2026-11-29T24:00:00Z",
      "10000-01-01",
      "yesterday",
      // In range as written, out of it in UTC.
      "9999-12-31T23:59:59-14:00",
      "0001-01-01T00:00:00+14:00",
    ])
      expect({ t, ok: isStorableTime(t) }).toEqual({ t, ok: false });
  });
});

describe("canonicalTimeZone", () => {
  it("names a zone as Intl and PostgreSQL both know it; refuses offsets and unknown names", () => {
    expect(canonicalTimeZone("europe/london")).toBe("Europe/London");
    expect(canonicalTimeZone("US/Pacific-New")).toBe("America/Los_Angeles");
    expect(canonicalTimeZone("+05:30")).toBeNull();
    expect(canonicalTimeZone("Mars/Olympus")).toBeNull();
  });

  it("gives renamed zones their current names, which Intl resolves to the old ones", () => {
    expect(canonicalTimeZone("Europe/Kyiv")).toBe("Europe/Kyiv");
    expect(canonicalTimeZone("Europe/Kiev")).toBe("Europe/Kyiv");
    expect(canonicalTimeZone("Asia/Calcutta")).toBe("Asia/Kolkata");
    expect(canonicalTimeZone("america/nuuk")).toBe("America/Nuuk");
    expect(canonicalTimeZone("Pacific/Kanton")).toBe("Pacific/Kanton");
  });
});
