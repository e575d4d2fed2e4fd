export type ErrorCode =
  | "NOT_FOUND"
  | "CONFLICT"
  | "VALIDATION"
  | "UPSTREAM"
  | "RATE_LIMITED"
  | "UNAUTHORIZED";

export type FieldError = { location: string; message: string };

/** A failure with a code that `app.onError` maps to an HTTP status in one place. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[];
  constructor(code: ErrorCode, message: string, errors: FieldError[] = []) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.errors = errors;
  }
}

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} was not found`);

/** Postgres unique-violation, from either driver. */
export function isUniqueViolation(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 3; depth++) {
    if (typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "23505")
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

// PostgreSQL's refusals of a value itself: a NUL character in text (22021, 22P05 in JSON), a
// date or time out of its range (22008, 22007), a number out of range (22003).
const REFUSED_VALUE_CODES = new Set(["22021", "22P05", "22008", "22007", "22003"]);

/**
 * The database's own words when it refused a value it cannot store: input that got past
 * validation is still the client's problem (a 400 naming it), not a server fault. The statement
 * failed as a whole, so nothing was half-written.
 */
export function refusedValue(err: unknown): string | null {
  let e: unknown = err;
  for (let depth = 0; e && depth < 3; depth++) {
    if (typeof e === "object" && e !== null && "code" in e) {
      const code = String((e as { code: unknown }).code);
      if (REFUSED_VALUE_CODES.has(code)) return (e as { message?: string }).message ?? code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
