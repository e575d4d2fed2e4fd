export {
  articleTerms,
  type ClusterDoc,
  type ClusterOptions,
  DEFAULT_CLUSTER_OPTIONS,
  Idf,
  type LiveStory,
  StoryClusterer,
} from "./clustering.ts";
export {
  clusterArticles,
  getStory,
  recentStories,
  STORY_WINDOW_MS,
  type Story,
  StoryWindowCache,
  storyEmbeddings,
} from "./stories.service.ts";
