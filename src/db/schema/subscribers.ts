import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/** Followed things: companies, people, countries, technologies. */
export type FollowedEntity = {
  kind: "company" | "person" | "country" | "technology" | "topic";
  name: string;
};

export const subscribers = pgTable(
  "subscribers",
  {
    id: uuid().primaryKey().defaultRandom(),
    email: text().notNull(),
    name: text(),
    role: text().notNull(),
    industry: text().notNull(),
    interests: jsonb().$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    followed: jsonb().$type<FollowedEntity[]>().notNull().default(sql`'[]'::jsonb`),
    mutedTopics: jsonb().$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    mutedSources: jsonb().$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    region: text(),
    language: text().notNull().default("en"),
    briefingLength: integer().notNull().default(5),
    timezone: text().notNull(),
    /** Local wall-clock time, "HH:MM", in `timezone`. */
    deliveryTime: text().notNull(),
    /** active | pending (double opt-in not confirmed) | paused | unsubscribed | bounced */
    status: text().notNull().default("active"),
    /** Embedding of the profile's text (role, industry, interests, followed), when a model is configured. */
    profileEmbedding: jsonb().$type<number[]>(),
    /** The profile text that embedding was made from: a changed profile is embedded again. */
    profileEmbeddingText: text(),
    /** Learned from feedback: concept or term -> weight adjustment. */
    preferenceWeights: jsonb().$type<Record<string, number>>().notNull().default(sql`'{}'::jsonb`),
    confirmedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("subscribers_email_key").on(sql`lower(${t.email})`)],
);

/** Bearer tokens for the app and integrations; only the SHA-256 of a token is stored. */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid().primaryKey().defaultRandom(),
    subscriberId: uuid()
      .notNull()
      .references(() => subscribers.id, { onDelete: "cascade" }),
    tokenHash: text().notNull(),
    label: text().notNull().default("default"),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("api_tokens_hash_key").on(t.tokenHash),
    index("api_tokens_subscriber_idx").on(t.subscriberId),
  ],
);
