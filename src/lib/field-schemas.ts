import { domainToASCII } from "node:url";
import { z } from "@hono/zod-openapi";
import { isStorableText } from "./text.ts";
import { isCalendarDate } from "./time.ts";

// Field schemas the routes and modules share: ids, dates and text as the API takes them.

/** A UUID as the API takes it, in any case; stored ids are lower case, so it is compared so. */
/** Unset and empty (or blank) both mean "not given": for environment variables and query values. */
export const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

export const uuidSchema = z
  .string()
  .uuid("must be a UUID")
  .transform((id) => id.toLowerCase());

/** A path parameter holding a UUID. */
export const uuidParam = (name = "id") => uuidSchema.openapi({ param: { name, in: "path" } });

// PostgreSQL text cannot hold a NUL, and a lone surrogate would come back as U+FFFD.
export const STORABLE_TEXT =
  "must be valid text (no NUL, no unpaired surrogates): such text cannot be stored";

// Line breaks, other control characters (C0, DEL, C1) and bidirectional overrides and isolates,
// which make a name shown in an email or a page read as something else ("a\r\nBcc: ...", text
// reversed by U+202E). Marks such as U+200F, which right-to-left names use, are left alone.
// U+2028 and U+2029 are line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// Text of nothing but invisible characters (zero-width spaces and joiners, word joiners, marks,
// the BOM, a soft hyphen, Hangul and Braille blanks) and spaces reads as empty wherever it is shown.
const ONLY_INVISIBLE = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

/**
 * A text field as every schema takes one: storable (refused by name rather than failing at the
 * insert or being stored altered, for callers that do not come through checkJsonBody: the CLI,
 * forms), trimmed, one line of plain text, not empty, at most `max` characters.
 */
export const textField = (max: number) =>
  z
    .string()
    .refine(isStorableText, { message: STORABLE_TEXT, abort: true })
    .trim()
    .min(1, "must not be empty")
    .refine((v) => !ONLY_INVISIBLE.test(v), {
      message: "must not be empty (it has only invisible characters)",
    })
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !NOT_ONE_LINE.test(v), {
      message: "must be one line of text (no line breaks, control characters or direction overrides)",
    });

function asciiDomain(address: string): string {
  const at = address.lastIndexOf("@");
  if (at < 0 || !/[^\x20-\x7e]/.test(address.slice(at + 1))) return address;
  const ascii = domainToASCII(address.slice(at + 1).toLowerCase());
  return ascii ? `${address.slice(0, at)}@${ascii}` : address;
}

/**
 * An email address as every route takes one: surrounding spaces dropped first (sign-up's form
 * already did; the API refused " a@b.co "), then checked, at most 254 characters (RFC 5321).
 */
export const emailSchema = z
  .string()
  .trim()
  // An internationalized domain (user@müller.de) is kept in its ASCII form (xn--mller-kva.de), the
  // one every relay takes; it was refused. A non-ASCII local part needs SMTPUTF8: still refused.
  .transform(asciiDomain)
  .pipe(z.email("must be an email address").max(254, "must be at most 254 characters"))
  .openapi({ format: "email", maxLength: 254, example: "reader@example.com" });

/** A date as the API takes it: YYYY-MM-DD, and a real one (no 30 February, no month 00). */
export const calendarDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date as YYYY-MM-DD")
  .refine(isCalendarDate, "must be a real calendar date");
