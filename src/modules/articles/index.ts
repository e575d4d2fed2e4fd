export {
  type Article,
  appearancesOfStories,
  articlesOfStories,
  assignArticleToStory,
  ingestSource,
  type SourceIngestResult,
  storeArticles,
  unassignedArticles,
} from "./articles.service.ts";
export { type ExtractedArticle, extractArticle, fetchArticleText } from "./extract.ts";
export { decodeBody, type FeedEntry, parseFeed } from "./feed.parser.ts";
export { canonicalUrl, domainOf, type NormalizedArticle, normalizeEntry } from "./normalize.ts";
export { type ArticleSubmission, articleSubmissionSchema, submitArticle } from "./submit.service.ts";
