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
  updateProfile,
} from "./profiles.service.ts";
