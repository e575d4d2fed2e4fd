export {
  buildProfileVector,
  matchEntry,
  type ProfileInput,
  type ProfileVector,
  taxonomyConcepts,
} from "./profile-vector.ts";
export {
  domainMuted,
  explain,
  matchedConcepts,
  mutedSourceKeys,
  prepareCandidates,
  type RankCandidate,
  type Ranked,
  RankingRun,
  rankForProfile,
  type StoryText,
} from "./ranking.service.ts";
export { INDUSTRIES, ROLES } from "./taxonomy.data.ts";
export { SegmentInsights, segmentOf, whyItMattersOffline } from "./why-it-matters.ts";
