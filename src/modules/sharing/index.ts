export { createSharingRoutes } from "./sharing.routes.ts";
export { createShare, openShare, revokeShare, type SharedStory } from "./sharing.service.ts";
