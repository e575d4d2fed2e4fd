export { type ExtractiveSummary, type SourceArticle, summarizeExtractive } from "./extractive.ts";
export {
  getSummary,
  latestSummaries,
  listStoriesWithSources,
  type StorySummary,
  type StoryView,
  summarizeStory,
  toStoryView,
} from "./summaries.service.ts";
