/** Calendar arithmetic in IANA time zones, on Intl alone (Node ships full ICU). */

/**
 * Zones whose IANA name changed, under the old name ICU (so Intl) still resolves them to: CLDR
 * keeps its identifiers stable, so "Europe/Kyiv" came back to readers as "Europe/Kiev" and the
 * browser's own "Asia/Kolkata" as "Asia/Calcutta". PostgreSQL knows both names of each.
 */
export const RENAMED_ZONES: Record<string, string> = {
  "Africa/Asmera": "Africa/Asmara",
  "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
  "America/Catamarca": "America/Argentina/Catamarca",
  "America/Coral_Harbour": "America/Atikokan",
  "America/Cordoba": "America/Argentina/Cordoba",
  "America/Godthab": "America/Nuuk",
  "America/Indianapolis": "America/Indiana/Indianapolis",
  "America/Jujuy": "America/Argentina/Jujuy",
  "America/Louisville": "America/Kentucky/Louisville",
  "America/Mendoza": "America/Argentina/Mendoza",
  "Asia/Calcutta": "Asia/Kolkata",
  "Asia/Katmandu": "Asia/Kathmandu",
  "Asia/Rangoon": "Asia/Yangon",
  "Asia/Saigon": "Asia/Ho_Chi_Minh",
  "Atlantic/Faeroe": "Atlantic/Faroe",
  "Europe/Kiev": "Europe/Kyiv",
  "Pacific/Enderbury": "Pacific/Kanton",
  "Pacific/Ponape": "Pacific/Pohnpei",
  "Pacific/Truk": "Pacific/Chuuk",
};

/**
 * The IANA name of a zone ("europe/london" -> "Europe/London", "US/Pacific-New" ->
 * "America/Los_Angeles", "Asia/Calcutta" -> "Asia/Kolkata"), or null when it is not a zone.
 * Stored zones are used by PostgreSQL too, which knows canonical names but not every alias Intl
 * accepts.
 */
export function canonicalTimeZone(tz: string): string | null {
  // Offsets are not zones: PostgreSQL reads "+05:30" as POSIX, five and a half hours west.
  if (!/^[A-Za-z]/.test(tz)) return null;
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
    return RENAMED_ZONES[resolved] ?? resolved;
  } catch {
    return null;
  }
}

const partsCache = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    partsCache.set(tz, f);
  }
  return f;
}

/** The wall-clock date and time at `instant` in `tz`. */
export function localParts(instant: Date, tz: string): { date: string; time: string } {
  const p = Object.fromEntries(
    formatter(tz)
      .formatToParts(instant)
      .map((x) => [x.type, x.value]),
  );
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

export function localDate(instant: Date, tz: string): string {
  return localParts(instant, tz).date;
}

/** "Friday, 27 November 2026" for a YYYY-MM-DD date. */
export function formatLongDate(date: string, locale = "en-GB"): string {
  return new Intl.DateTimeFormat(locale, {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  }).format(new Date(`${date}T12:00:00Z`));
}

/** "Fri 27 Nov": a date as an email subject names it, short enough to leave a phone room for the rest. */
export function formatShortDate(date: string, locale = "en-GB"): string {
  return new Intl.DateTimeFormat(locale, {
    weekday: "short",
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  })
    .format(new Date(`${date}T12:00:00Z`))
    .replace(/,/g, "");
}

/** Whether `d` is a real calendar date written YYYY-MM-DD (no 30 February, no month 00). */
export function isCalendarDate(d: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
  // From 1900: no briefing is older, and date arithmetic (a week's look-back) stays in range.
  return m !== null && Number(m[1]) >= 1900 && isRealDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

function isRealDay(year: number, month: number, day: number): boolean {
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, day);
  return t.getUTCFullYear() === year && t.getUTCMonth() === month - 1 && t.getUTCDate() === day;
}

// ISO 8601 as APIs send it: a date, or a date and time with an optional zone. Date.parse alone
// took "2026-02-30" as 2 March and "-1" as the year 2001.
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/i;

// The instants PostgreSQL's timestamptz takes as ISO text (years 1 to 9999, in UTC). Date.UTC
// reads a year below 100 as 19xx, hence setUTCFullYear.
const FIRST_INSTANT = new Date(0).setUTCFullYear(1, 0, 1);
const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const isStorableInstant = (t: number) => t >= FIRST_INSTANT && t <= LAST_INSTANT;

/**
 * An ISO 8601 date or time PostgreSQL stores as written: a real day, years 1 to 9999, before and
 * after its zone offset is applied ("9999-12-31T23:59:59-14:00" is in the year 10000 in UTC).
 */
export function isStorableTime(v: string): boolean {
  const m = ISO_TIME.exec(v);
  if (!m) return false;
  const [year, month, day, hour = 0, minute = 0, second = 0, zoneHour = 0, zoneMinute = 0] = m
    .slice(1)
    .map((x) => (x === undefined ? undefined : Number(x))) as number[];
  return (
    year! >= 1 &&
    isRealDay(year!, month!, day!) &&
    hour < 24 &&
    minute < 60 &&
    second < 60 &&
    zoneHour < 15 &&
    zoneMinute < 60 &&
    isStorableInstant(Date.parse(v))
  );
}

/**
 * Whether a calendar date is after today everywhere (the latest local date on Earth is
 * Kiritimati's, UTC+14): no briefing or delivery can be for it.
 */
export function isAfterTodayEverywhere(date: string, now: Date): boolean {
  return date > localDate(now, "Pacific/Kiritimati");
}
