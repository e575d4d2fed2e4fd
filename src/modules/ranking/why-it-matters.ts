import { type Ranked, tellingTerm } from "./ranking.service.ts";

/**
 * The offline "why it matters to you": built from the features that ranked the story, so it
 * never claims more than the matching shows. The model-written version replaces it when configured.
 */
export function whyItMattersOffline(ranked: Ranked, profile: { role: string; industry: string }): string {
  const [first, second] = ranked.matched;
  const who = `${profile.role} in ${profile.industry.toLowerCase()}`;
  if (!first) {
    return `Widely covered today (${ranked.features.outlets ?? 1} outlets); worth knowing as a ${who} even outside your usual beat.`;
  }
  if (first.kind === "followed") {
    return `You follow ${first.label}, and this story is about it directly.`;
  }
  const topic = second && second.label !== first.label ? `${first.label} and ${second.label}` : first.label;
  const detail = tellingTerm(first.term, first.label) ? ` (the coverage mentions ${first.term})` : "";
  return `It bears on ${topic.toLowerCase()}${detail}, which shapes decisions for a ${who}.`;
}
