import type { Context } from "hono";
import { AppError } from "./errors.ts";
import { requestHeader } from "./http.ts";
import { isStorableText } from "./text.ts";

/** A form value that did not decode to text: a malformed %-escape, or bytes that are not UTF-8. */
export const INVALID_TEXT = Symbol("invalid text");
export type FormValue = string | typeof INVALID_TEXT;

/**
 * A urlencoded body decoded strictly: one value per field, or a list when a field repeats (as
 * parseBody({ all: true }) gives). The URL standard's parser, which parseBody and URLSearchParams
 * use, keeps a malformed escape ("%zz") as sent and turns bytes that are not UTF-8 ("%E0%A4") into
 * U+FFFD, so a mangled value was stored as if typed; decodeURIComponent throws on both instead. A
 * browser escapes every non-ASCII byte of a form, so a raw U+FFFD in the body text can only be a
 * byte that was not UTF-8, replaced by c.req.text(). A name that does not decode is none of ours.
 */
function decodeForm(text: string): Record<string, FormValue | FormValue[]> {
  const decode = (s: string): FormValue => {
    if (s.includes("\uFFFD")) return INVALID_TEXT;
    try {
      return decodeURIComponent(s.replaceAll("+", " "));
    } catch {
      return INVALID_TEXT;
    }
  };
  const fields: Record<string, FormValue | FormValue[]> = Object.create(null);
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const at = pair.indexOf("=");
    const name = decode(at < 0 ? pair : pair.slice(0, at));
    if (name === INVALID_TEXT) continue;
    const value = decode(at < 0 ? "" : pair.slice(at + 1));
    const seen = fields[name];
    if (seen === undefined) fields[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else fields[name] = [seen, value];
  }
  return fields;
}

/**
 * A form post's fields as parseBody({ all: true }) gives them, a urlencoded body decoded strictly
 * (decodeForm). Multipart parts, and any other body, are left to parseBody.
 */
export async function readForm(c: Context): Promise<Record<string, FormValue | File | (FormValue | File)[]>> {
  const type = mediaType(c);
  if (type === "application/x-www-form-urlencoded") return decodeForm(await c.req.text());
  try {
    return await c.req.parseBody({ all: true });
  } catch {
    // The fetch FormData parser refuses a multipart body it cannot split (no or a wrong boundary,
    // a part cut short): the client's malformed body, not a fault of ours.
    throw new AppError("VALIDATION", `the request body is not a well-formed ${type || "form"}`, [
      { location: "body", message: `is not a well-formed ${type || "form"}` },
    ]);
  }
}

/** The request's media type, compared as parseBody does: lower case, parameters dropped. */
const mediaType = (c: Context) =>
  (requestHeader(c, "content-type") ?? "").split(";")[0]!.trim().toLowerCase();

/** Whether the body is one a browser's form sends (parseBody reads anything else as no fields). */
export const isFormPost = (c: Context) =>
  ["application/x-www-form-urlencoded", "multipart/form-data"].includes(mediaType(c));

/** A form value that is text PostgreSQL can store as sent (not INVALID_TEXT, a file, a NUL...). */
export const isFormText = (v: unknown): v is string => typeof v === "string" && isStorableText(v);
