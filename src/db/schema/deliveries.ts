import { date, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { briefings } from "./briefings.ts";
import { subscribers } from "./subscribers.ts";

/**
 * One email per subscriber per local date. The unique key is what makes delivery exactly-once:
 * queued -> rendered -> sending -> sent, or failed_retryable / failed_permanent.
 */
export const deliveries = pgTable(
  "deliveries",
  {
    id: uuid().primaryKey().defaultRandom(),
    subscriberId: uuid()
      .notNull()
      .references(() => subscribers.id, { onDelete: "cascade" }),
    briefingId: uuid().references(() => briefings.id, { onDelete: "set null" }),
    localDate: date({ mode: "string" }).notNull(),
    channel: text().notNull().default("email"),
    status: text().notNull().default("queued"),
    attempts: integer().notNull().default(0),
    messageId: text(),
    lastError: text(),
    claimedAt: timestamp({ withTimezone: true }),
    nextAttemptAt: timestamp({ withTimezone: true }),
    sentAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("deliveries_subscriber_date_key").on(t.subscriberId, t.localDate, t.channel),
    index("deliveries_status_idx").on(t.status),
  ],
);
