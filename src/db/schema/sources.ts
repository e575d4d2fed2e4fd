import { boolean, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/** A feed (or a push integration) that articles come from, with its fetch health. */
export const sources = pgTable(
  "sources",
  {
    id: uuid().primaryKey().defaultRandom(),
    url: text().notNull(),
    name: text().notNull(),
    outlet: text(),
    /** feed | push */
    kind: text().notNull().default("feed"),
    language: text(),
    fetchIntervalMinutes: integer().notNull().default(30),
    enabled: boolean().notNull().default(true),
    etag: text(),
    lastModified: text(),
    lastFetchedAt: timestamp({ withTimezone: true }),
    lastSuccessAt: timestamp({ withTimezone: true }),
    consecutiveFailures: integer().notNull().default(0),
    lastError: text(),
    nextFetchAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("sources_url_key").on(t.url)],
);
