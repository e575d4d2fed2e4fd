export * from "./articles.ts";
export * from "./briefings.ts";
export * from "./deliveries.ts";
export * from "./engagement.ts";
export * from "./sources.ts";
export * from "./stories.ts";
export * from "./subscribers.ts";
