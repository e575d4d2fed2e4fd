export { createEmailLinkRoutes } from "./email-links.routes.ts";
export {
  type LinkPurpose,
  linkToken,
  readLinkToken,
  readStoryLinkToken,
  STORY_ACTIONS,
  type StoryAction,
  type StoryLinkClaims,
  type StoryTokens,
  storyLinkSigner,
} from "./link-tokens.ts";
export {
  bearerSecurity,
  createProfileRoutes,
  type SubscriberEnv,
  subscriberAuth,
} from "./profiles.routes.ts";
export * from "./profiles.schemas.ts";
export {
  activeSubscribers,
  authenticate,
  createSubscriber,
  findSubscriberByEmail,
  getSubscriber,
  issueToken,
  type Subscriber,
  toProfileView,
  unsubscribe,
  updateProfile,
} from "./profiles.service.ts";
export {
  authenticateToken,
  forgetSubscriberAuth,
  knownToken,
  listTokens,
  revokeToken,
  type TokenView,
} from "./tokens.service.ts";
