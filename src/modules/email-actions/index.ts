export { createEmailActionRoutes } from "./email-actions.routes.ts";
