/**
 * Publication dates as feeds write them. Most are RFC 822 or ISO 8601, which Date.parse reads;
 * many non-English publishers localize the day and month names ("Seg, 24 Set 2018 10:00:00 -0300",
 * "Di, 24 Okt 2018", "24 de setembro de 2018", "Okt 24, 2018"), which it does not, or worse,
 * reads wrong. Those names are mapped to English first. No library here: date-fns/chrono parse whole phrases per
 * locale, while a feed date needs only its month name recognized.
 */

// Month names and abbreviations in the languages of the feeds Daybreak meets most (pt, es, fr,
// de, it, nl), accents stripped, lower case: each maps to its English abbreviation.
const MONTHS: Record<string, string> = {};
const add = (english: string, names: string) => {
  for (const n of names.split(" ")) MONTHS[n] = english;
};
add("Jan", "jan janv janeiro enero ene janvier januar jaen gen gennaio januari");
add("Feb", "feb fev fevr fevereiro febrero fevrier februar febbraio februari");
add("Mar", "mar marco marzo mars marz mrz maerz mrt maart");
add("Apr", "apr abr avr abril avril april aprile");
add("May", "may mai maio mayo mag maggio mei");
add("Jun", "jun juin junho junio juni giu giugno");
add("Jul", "jul juil julho julio juillet juli lug luglio");
add("Aug", "aug ago aout agosto august augustus");
add("Sep", "sep sept set setembro septiembre septembre september settembre");
add("Oct", "oct out okt ott outubro octubre octobre oktober ottobre");
add("Nov", "nov novembro noviembre novembre november");
add("Dec", "dec dez dic dezembro diciembre decembre dezember dicembre december");

// Words that join date parts in some languages: "24 de setembro de 2018", "24. Oktober 2018".
const FILLER = new Set(["de", "del", "di", "le", "el", "am", "um", "a", "as", "at", "h"]);

const RFC_822 =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}/;

const fold = (s: string) =>
  s
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();

/** The date a feed gives, or null when it cannot be read as one. */
export function parseFeedDate(raw: string | null | undefined): Date | null {
  // A trailing comment names the zone again ("+0200 (CEST)"): the offset before it decides.
  const s = raw?.trim().replace(/\s*\([^()]*\)$/, "");
  if (!s) return null;
  // ISO 8601 and plain RFC 822 need nothing more than a zone.
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) return valid(Date.parse(isoInUtc(s)));
  if (RFC_822.test(s)) return valid(Date.parse(inUtc(s)));
  // A leading weekday, in whatever language, says nothing the date does not. A leading word is a
  // month instead ("Okt 24, 2018") only when it names one and no other month follows ("Mar, 25 Sep":
  // a Spanish Tuesday).
  const first = s.match(/^(\p{L}+)\.?,?\s+(?=\d)/u);
  const after = first ? s.slice(first[0].length) : s;
  const monthFollows = after.split(/\s+/).some((t) => MONTHS[fold(t).replace(/[.,]+$/, "")]);
  const rest = first && (monthFollows || !MONTHS[fold(first[1]!)]) ? after : s;
  let named = false;
  const english = rest
    .split(/\s+/)
    .map((token) => {
      const word = fold(token).replace(/[.,]+$/, "");
      const month = MONTHS[word];
      if (month) {
        named = true;
        return month;
      }
      return FILLER.has(word) ? "" : token.replace(/^(\d{1,2})\.$/, "$1");
    })
    .filter(Boolean)
    .join(" ");
  return valid(Date.parse(inUtc(named ? english : s)));
}

// Zone abbreviations Date.parse does not know (it knows UT, GMT and the US ones), as feeds in
// Europe, India, Asia and Australia write them. IST is India's: the one news feeds use.
const ZONES: Record<string, string> = {
  UTC: "+0000",
  WET: "+0000",
  WEST: "+0100",
  BST: "+0100",
  IST: "+0530",
  CET: "+0100",
  CEST: "+0200",
  MET: "+0100",
  MEST: "+0200",
  MEZ: "+0100",
  MESZ: "+0200",
  EET: "+0200",
  EEST: "+0300",
  MSK: "+0300",
  SAST: "+0200",
  GST: "+0400",
  PKT: "+0500",
  SGT: "+0800",
  HKT: "+0800",
  AWST: "+0800",
  JST: "+0900",
  KST: "+0900",
  ACST: "+0930",
  ACDT: "+1030",
  AEST: "+1000",
  AEDT: "+1100",
  NZST: "+1200",
  NZDT: "+1300",
  BRT: "-0300",
  ART: "-0300",
  AKST: "-0900",
  AKDT: "-0800",
  HST: "-1000",
};
const RFC_ZONE = /(?:\s(?:UT|GMT|[ECMP][SD]T)|[+-]\d{1,4}|[+-]\d{2}:\d{2})$/i;

/**
 * The date with its zone made explicit: a known abbreviation as an offset, and UTC when the feed
 * gave none (Date.parse reads a zoneless date in the server's own zone, so the same feed read
 * differently with TZ set).
 */
function inUtc(s: string): string {
  const abbreviation = s.match(/\s([A-Z]{2,4})$/);
  const offset = abbreviation && ZONES[abbreviation[1]!];
  if (offset) return `${s.slice(0, -abbreviation[1]!.length)}${offset}`;
  return RFC_ZONE.test(s) ? s : `${s} GMT`;
}

/** An ISO 8601 date-time without a zone, read as UTC (a date alone already is). */
function isoInUtc(s: string): string {
  const m = s.match(/^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/);
  return m ? `${m[1]}T${m[2]}Z` : s;
}

function valid(t: number): Date | null {
  return Number.isNaN(t) ? null : new Date(t);
}
