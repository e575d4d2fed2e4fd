export { type BriefingReads, createBriefingReads, createBriefingRoutes } from "./briefings.routes.ts";
export { briefingSchema, storySchema } from "./briefings.schemas.ts";
export {
  type Briefing,
  type BriefingView,
  briefingKey,
  briefingViews,
  type FeedbackSignal,
  type GenerateResult,
  generateBriefings,
  getBriefingForDate,
  getBriefingView,
  getStoryForSubscriber,
  listBriefings,
  RankingRunCache,
  recordFeedback,
  storyText,
  withoutMutedOutlets,
} from "./briefings.service.ts";
