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

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
