/** Calendar arithmetic in IANA time zones, on Intl alone (Node ships full ICU). */

export function isValidTimeZone(tz: string): boolean {
  return canonicalTimeZone(tz) !== null;
}

/**
 * The IANA name Intl resolves a zone to ("europe/london" -> "Europe/London", "US/Pacific-New"
 * -> "America/Los_Angeles"), or null when it is not a zone. Stored zones are used by PostgreSQL
 * too, which knows canonical names but not every alias Intl accepts.
 */
export function canonicalTimeZone(tz: string): string | null {
  // Offsets are not zones: PostgreSQL reads "+05:30" as POSIX, five and a half hours west.
  if (!/^[A-Za-z]/.test(tz)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
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

/** Whether `d` is a real calendar date written YYYY-MM-DD (no 30 February, no month 00). */
export function isCalendarDate(d: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) return false;
  const t = Date.parse(`${d}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
}

/** Whether `v` is an ISO 8601 time a database can hold (years 1 to 9999). */
export function isStorableTime(v: string): boolean {
  const t = Date.parse(v);
  if (Number.isNaN(t)) return false;
  const year = new Date(t).getUTCFullYear();
  return year >= 1 && year <= 9999;
}
