export { type ExtractiveSummary, type SourceArticle, summarizeExtractive } from "./extractive.ts";
export { callModel, formatLlmUsage, llmUsage, rejectCall, tokensSpentToday } from "./model-calls.ts";
export {
  answerQuestion,
  latestSummaries,
  listStoriesWithSources,
  type StorySummary,
  type StoryView,
  type SummarizedStory,
  storiesToSummarize,
  summarizedStoriesSince,
  summarizeStory,
  toStoryView,
} from "./summaries.service.ts";
export { SummaryCache } from "./summary-cache.ts";
export { type Problem, type Verification, verifyFacts, verifySummary } from "./verify.ts";
