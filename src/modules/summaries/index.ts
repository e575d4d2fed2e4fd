export { type ExtractiveSummary, type SourceArticle, summarizeExtractive } from "./extractive.ts";
export {
  answerQuestion,
  latestSummaries,
  listStoriesWithSources,
  type StorySummary,
  type StoryView,
  summarizeStory,
  toStoryView,
} from "./summaries.service.ts";
export { type Problem, type Verification, verifySummary } from "./verify.ts";
