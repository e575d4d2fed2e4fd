import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { sources } from "./sources.ts";
import { stories } from "./stories.ts";

/** One article, once: wire copies and re-fetches become appearances, not new rows. */
export const articles = pgTable(
  "articles",
  {
    id: uuid().primaryKey().defaultRandom(),
    sourceId: uuid().references(() => sources.id, { onDelete: "set null" }),
    storyId: uuid().references(() => stories.id, { onDelete: "set null" }),
    /** Canonical URL: tracking parameters stripped; what citations link to. */
    url: text().notNull(),
    guid: text(),
    title: text().notNull(),
    outlet: text().notNull(),
    domain: text().notNull(),
    author: text(),
    publishedAt: timestamp({ withTimezone: true }).notNull(),
    fetchedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    language: text(),
    /** Plain text of the article body (or the feed's teaser when that is all there is). */
    content: text().notNull(),
    wordCount: integer().notNull(),
    contentHash: text().notNull(),
    /** 64-bit SimHash of the body's shingles, for near-duplicate detection. */
    simhash: bigint({ mode: "bigint" }),
    /**
     * The SimHash's four 16-bit bands. Two hashes within 3 bits share at least one band exactly
     * (pigeonhole), so near-duplicate candidates come from four index lookups, not a scan.
     */
    simBand0: integer(),
    simBand1: integer(),
    simBand2: integer(),
    simBand3: integer(),
    /** The embedding of title and lead, when a model is configured (clustering and ranking). */
    embedding: jsonb().$type<number[]>(),
    /** ok | teaser | paywalled | unreachable */
    status: text().notNull().default("ok"),
  },
  (t) => [
    uniqueIndex("articles_url_key").on(t.url),
    index("articles_content_hash_idx").on(t.contentHash),
    index("articles_story_idx").on(t.storyId),
    index("articles_published_idx").on(t.publishedAt),
    index("articles_sim_band0_idx").on(t.simBand0),
    index("articles_sim_band1_idx").on(t.simBand1),
    index("articles_sim_band2_idx").on(t.simBand2),
    index("articles_sim_band3_idx").on(t.simBand3),
  ],
);

/** Where an article was seen: its own feed, and every outlet that re-ran the same copy. */
export const articleAppearances = pgTable(
  "article_appearances",
  {
    id: uuid().primaryKey().defaultRandom(),
    articleId: uuid()
      .notNull()
      .references(() => articles.id, { onDelete: "cascade" }),
    sourceId: uuid().references(() => sources.id, { onDelete: "set null" }),
    url: text().notNull(),
    outlet: text().notNull(),
    seenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("article_appearances_url_key").on(t.articleId, t.url),
    // Feed links are looked up on their own: a teaser whose page named another canonical URL is
    // held under that URL, and known again by the link it came with.
    index("article_appearances_url_idx").on(t.url),
  ],
);
