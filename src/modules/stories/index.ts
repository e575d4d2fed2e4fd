export { articleTerms, Idf } from "./clustering.ts";
export { clusterArticles, getStory, recentStories, STORY_WINDOW_MS, type Story } from "./stories.service.ts";
