import { type AnyColumn, type SQL, sql } from "drizzle-orm";

/**
 * `column = any($1::type[])`: a list of values bound as one array parameter. drizzle's inArray
 * binds one parameter per value; the morning's reads name 25 to 850 values each (a build batch's
 * subscribers, its stories and segments), and building, binding and planning those statements
 * cost more than their rows (measured in bench:daily). The array travels as a PostgreSQL array
 * literal in an untyped parameter whose type PostgreSQL takes from the cast, so both drivers
 * (postgres-js, PGlite) bind it the same way. Not `$1::text::uuid[]`: a cast in the statement is
 * evaluated again for every row a scan filters (one batch read took 30 s that way).
 */
export function anyOf(column: AnyColumn, values: readonly string[], type: "uuid" | "text" | "date"): SQL {
  return sql`${column} = any(${arrayLiteral(values)}::${sql.raw(type)}[])`;
}

/** A PostgreSQL array literal of texts: every element quoted, `"` and `\` escaped. */
export function arrayLiteral(values: readonly string[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i > 0) out += ",";
    out += `"${/["\\]/.test(v) ? v.replace(/["\\]/g, "\\$&") : v}"`;
  }
  return `${out}}`;
}
