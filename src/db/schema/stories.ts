import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/** Articles from different outlets about the same event. */
export const stories = pgTable(
  "stories",
  {
    id: uuid().primaryKey().defaultRandom(),
    title: text().notNull(),
    articleCount: integer().notNull().default(0),
    outletCount: integer().notNull().default(0),
    /** Term weights of the story's articles, kept so new articles are matched without re-reading them. */
    terms: jsonb().$type<Record<string, number>>().notNull(),
    firstSeenAt: timestamp({ withTimezone: true }).notNull(),
    lastSeenAt: timestamp({ withTimezone: true }).notNull(),
    /** Mean embedding of the story's articles (unit length), when a model is configured. */
    embedding: jsonb().$type<number[]>(),
    /** Bumped whenever the story gains an article; summaries record the revision they cover. */
    revision: integer().notNull().default(1),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("stories_last_seen_idx").on(t.lastSeenAt)],
);

export type Citation = number;
export type CitedText = { text: string; citations: Citation[] };
export type SummarySource = {
  n: number;
  articleId: string;
  outlet: string;
  domain: string;
  url: string;
  title: string;
  publishedAt: string;
};

/** A story's summary; a new version is written when the story gains articles, old ones are kept. */
export const storySummaries = pgTable(
  "story_summaries",
  {
    id: uuid().primaryKey().defaultRandom(),
    storyId: uuid()
      .notNull()
      .references(() => stories.id, { onDelete: "cascade" }),
    version: integer().notNull(),
    storyRevision: integer().notNull(),
    headline: text().notNull(),
    keyPoints: jsonb().$type<CitedText[]>().notNull(),
    analysis: jsonb().$type<CitedText[]>().notNull(),
    sources: jsonb().$type<SummarySource[]>().notNull(),
    /** extractive | llm */
    provider: text().notNull(),
    model: text(),
    promptVersion: text(),
    /** What verification rejected before this version was accepted. */
    rejections: jsonb().$type<{ reason: string; detail: string }[]>().notNull().default([]),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("story_summaries_version_key").on(t.storyId, t.version)],
);

/** "Why it matters" for one (story, role × industry segment): made once, shared by the segment. */
export const storyInsights = pgTable(
  "story_insights",
  {
    id: uuid().primaryKey().defaultRandom(),
    storyId: uuid()
      .notNull()
      .references(() => stories.id, { onDelete: "cascade" }),
    segment: text().notNull(),
    storyRevision: integer().notNull(),
    text: text().notNull(),
    provider: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("story_insights_segment_key").on(t.storyId, t.segment)],
);
