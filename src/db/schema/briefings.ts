import {
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { subscribers } from "./subscribers.ts";

export type AlsoToday = { storyId: string; headline: string; score: number };

/** One subscriber's briefing for one local calendar day. */
export const briefings = pgTable(
  "briefings",
  {
    id: uuid().primaryKey().defaultRandom(),
    subscriberId: uuid()
      .notNull()
      .references(() => subscribers.id, { onDelete: "cascade" }),
    /** The subscriber's local date, YYYY-MM-DD. */
    date: date({ mode: "string" }).notNull(),
    generatedAt: timestamp({ withTimezone: true }).notNull(),
    /** The next candidates that did not make the cut, with their scores: "also today" and an audit trail. */
    alsoToday: jsonb().$type<AlsoToday[]>().notNull().default([]),
  },
  // No index on the date alone: every read names the subscriber, and during a morning the
  // planner's statistics (taken before it) said today had no briefings, so it preferred that index
  // and read every briefing built so far today to find a batch's few (quadratic over a morning).
  (t) => [uniqueIndex("briefings_subscriber_date_key").on(t.subscriberId, t.date)],
);

export const briefingItems = pgTable(
  "briefing_items",
  {
    // No foreign keys on an item's columns: each check is a locking lookup per row, and a
    // morning writes ~650,000 items. Items are written only in the transaction that inserts their
    // briefing, with the ids that insert returned, from summaries just read; stories and summaries
    // are never deleted. Deleting (or truncating) briefings still deletes their items: statement
    // triggers on briefings (migration 0008) do what ON DELETE CASCADE did. Measured: the story and
    // summary checks were half the cost of writing items (40,000 rows: 600 -> 300 ms); the
    // briefing check ~7 us a row.
    briefingId: uuid().notNull(),
    rank: integer().notNull(),
    storyId: uuid().notNull(),
    /** The summary version the subscriber was shown. */
    summaryId: uuid().notNull(),
    score: real().notNull(),
    /** "Why you're seeing this", from the features that produced the score. */
    reason: text().notNull(),
    whyItMatters: text(),
    features: jsonb().$type<Record<string, number>>().notNull().default({}),
  },
  (t) => [primaryKey({ columns: [t.briefingId, t.rank] }), index("briefing_items_story_idx").on(t.storyId)],
);
