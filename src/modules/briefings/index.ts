export { createBriefingRoutes } from "./briefings.routes.ts";
export { briefingSchema, storySchema } from "./briefings.schemas.ts";
export {
  type Briefing,
  type BriefingView,
  type GenerateResult,
  generateBriefings,
  getBriefingForDate,
  getBriefingView,
  listBriefings,
} from "./briefings.service.ts";
