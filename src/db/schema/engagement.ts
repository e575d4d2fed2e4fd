import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { stories } from "./stories.ts";
import { subscribers } from "./subscribers.ts";

/** A public link to one story. The token is the URL; nothing about the sharer is shown. */
export const shareLinks = pgTable(
  "share_links",
  {
    id: uuid().primaryKey().defaultRandom(),
    token: text().notNull(),
    storyId: uuid()
      .notNull()
      .references(() => stories.id, { onDelete: "cascade" }),
    subscriberId: uuid()
      .notNull()
      .references(() => subscribers.id, { onDelete: "cascade" }),
    viewCount: integer().notNull().default(0),
    expiresAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("share_links_token_key").on(t.token),
    // A sharer's list, newest first (GET /v1/shares).
    index("share_links_by_subscriber").on(t.subscriberId, t.createdAt.desc(), t.id.desc()),
  ],
);

/** up | down | more | less | hide_source */
export const feedback = pgTable(
  "feedback",
  {
    id: uuid().primaryKey().defaultRandom(),
    subscriberId: uuid()
      .notNull()
      .references(() => subscribers.id, { onDelete: "cascade" }),
    storyId: uuid()
      .notNull()
      .references(() => stories.id, { onDelete: "cascade" }),
    signal: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("feedback_subscriber_idx").on(t.subscriberId, t.createdAt)],
);

/** Every model call, with its tokens, for budgets and `daybreak stats`. */
export const llmCalls = pgTable(
  "llm_calls",
  {
    id: uuid().primaryKey().defaultRandom(),
    purpose: text().notNull(),
    model: text().notNull(),
    storyId: uuid(),
    subscriberId: uuid(),
    tokensIn: integer().notNull().default(0),
    tokensOut: integer().notNull().default(0),
    /** ok | error | rejected */
    outcome: text().notNull(),
    error: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("llm_calls_created_idx").on(t.createdAt)],
);

/** Single-use codes for the app's magic-link sign-in and for double opt-in. */
export const authCodes = pgTable(
  "auth_codes",
  {
    id: uuid().primaryKey().defaultRandom(),
    subscriberId: uuid()
      .notNull()
      .references(() => subscribers.id, { onDelete: "cascade" }),
    codeHash: text().notNull(),
    purpose: text().notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    usedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /**
     * A sign-up confirmation's profile, as the form that sent this code gave it: following the
     * link confirms what its own email answered, so a later form (anyone may type any address)
     * changes nothing until its own link is followed.
     */
    details: jsonb(),
  },
  // By subscriber and time: how many sign-in codes an address was sent in the last hour (asked
  // by anyone, unauthenticated), and a subscriber's deletion cascading here.
  (t) => [
    uniqueIndex("auth_codes_hash_key").on(t.codeHash),
    index("auth_codes_subscriber_idx").on(t.subscriberId, t.createdAt),
  ],
);
