export { buildProfileVector, matchEntry, type ProfileVector } from "./profile-vector.ts";
export {
  explain,
  matchedConcepts,
  prepareCandidates,
  type RankCandidate,
  type Ranked,
  rankForProfile,
  type StoryText,
} from "./ranking.service.ts";
export { INDUSTRIES, ROLES } from "./taxonomy.data.ts";
export { whyItMattersOffline } from "./why-it-matters.ts";
