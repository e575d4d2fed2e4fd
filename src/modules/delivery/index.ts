export {
  type BriefingEmailModel,
  briefingEmailModel,
  briefingText,
  renderBriefingEmail,
  type StoryLinks,
  storyLinkUrls,
} from "./briefing-email.ts";
export {
  type DeliveryOutcome,
  deliverBriefing,
  emailLinks,
  isDue,
  type SendSummary,
  sendDueBriefings,
} from "./delivery.service.ts";
export { claimDueDeliveries, type DueDelivery, stalledDeliveries } from "./due.service.ts";
export { createOutboxRoutes } from "./outbox.routes.ts";
