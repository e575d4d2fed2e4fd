export { type ExtractiveSummary, type SourceArticle, summarizeExtractive } from "./extractive.ts";
export { callModel, formatLlmUsage, llmUsage, rejectCall, tokensSpentToday } from "./model-calls.ts";
export {
  answerQuestion,
  latestSummaries,
  listStoriesWithSources,
  MODEL_RETRY_AFTER_MS,
  type StorySummary,
  type StoryView,
  type SummarizedStory,
  storiesAwaitingModel,
  summarizedStoriesSince,
  summarizeStory,
  toStoryView,
} from "./summaries.service.ts";
export { SummaryCache } from "./summary-cache.ts";
export { type Problem, type Verification, verifyFacts, verifySummary } from "./verify.ts";
