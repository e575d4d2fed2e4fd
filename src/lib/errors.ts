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

/** The PostgreSQL error behind a driver's or drizzle's wrapping, when there is one. */
function databaseError(err: unknown): { code: string; constraint?: string } | null {
  let e: unknown = err;
  for (let depth = 0; e && depth < 3; depth++) {
    if (typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string") {
      const { code, constraint, constraint_name } = e as {
        code: string;
        constraint?: string;
        constraint_name?: string;
      };
      return { code, constraint: constraint ?? constraint_name };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** Postgres unique-violation, from either driver. */
export function isUniqueViolation(err: unknown): boolean {
  return databaseError(err)?.code === "23505";
}

/** A CHECK constraint's refusal (by name), from either driver. */
export function isCheckViolation(err: unknown, constraint: string): boolean {
  const e = databaseError(err);
  return e?.code === "23514" && e.constraint === constraint;
}

// PostgreSQL's refusals of a value itself: a NUL character in text (22021, 22P05 in JSON), a
// date or time out of its range (22008, 22007, 22009 for a zone offset), a number out of range
// (22003).
const REFUSED_VALUE_CODES = new Set(["22021", "22P05", "22008", "22007", "22009", "22003"]);

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
  if (!(err instanceof Error)) return String(err);
  // drizzle wraps the database's refusal as "Failed query: <the whole SQL> params: ...": the
  // reason is the cause's, and it is what a source's last error or a log line should say.
  if (err.message.startsWith("Failed query:") && err.cause instanceof Error) {
    return `the database refused the write: ${err.cause.message}`;
  }
  return err.message;
}

/** Zod's issues as the API names them: one field error each, located under `target` ("body.email"). */
export function fieldErrors(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  target: string,
): FieldError[] {
  return issues.map((i) => ({ location: [target, ...i.path.map(String)].join("."), message: i.message }));
}

// Field errors named in one answer, at most: a hostile body of 10,000 bad ids made a 1 MB answer.
const MAX_FIELD_ERRORS = 50;

/**
 * One VALIDATION error naming each field of `issues` ("<what>: body.email must be ...; ..."), the
 * first MAX_FIELD_ERRORS of them, and how many more there are.
 */
export function validationError(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  target: string,
  what: string,
): AppError {
  const all = fieldErrors(issues, target);
  const errors = all.slice(0, MAX_FIELD_ERRORS);
  const more = all.length - errors.length;
  return new AppError(
    "VALIDATION",
    `${what}: ${errors.map((e) => `${e.location} ${e.message}`).join("; ")}${more > 0 ? `; and ${more} more` : ""}`,
    errors,
  );
}
