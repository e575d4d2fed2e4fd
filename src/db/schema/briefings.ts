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
    briefingId: uuid()
      .notNull()
      .references(() => briefings.id, { onDelete: "cascade" }),
    rank: integer().notNull(),
    // No foreign keys on the story and its summary: items are written only from summaries just
    // read, stories and summaries are never deleted, and the two checks per row were half the
    // cost of writing a morning's items (40,000 rows: 600 -> 300 ms on this machine's server).
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
