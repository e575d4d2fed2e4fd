import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { anyOf } from "../../db/any-of.ts";
import { storyInsights } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { detectLanguage, splitSentences, terms, wordCount } from "../../lib/text.ts";
import { callModel, rejectCall, type StorySummary, verifyFacts } from "../summaries/index.ts";
import { type Ranked, tellingTerm } from "./ranking.service.ts";

/**
 * The offline "why it matters to you": built from the features that ranked the story, so it
 * never claims more than the matching shows. The model-written version replaces it when configured.
 */
export function whyItMattersOffline(ranked: Ranked, profile: { role: string; industry: string }): string {
  const [first, second] = ranked.matched;
  const who = `${article(profile.role)} ${profile.role} in ${inSentence(profile.industry)}`;
  if (!first) {
    const outlets = ranked.features.outlets ?? 1;
    const coverage = outlets > 1 ? `Widely covered today (${outlets} outlets)` : "In today's news";
    return `${coverage}; worth knowing as ${who} even outside your usual beat.`;
  }
  if (first.kind === "followed") {
    return `You follow ${first.label}, and this story is about it directly.`;
  }
  const topic = second && second.label !== first.label ? `${first.label} and ${second.label}` : first.label;
  const detail = tellingTerm(first.term, first.label) ? ` (the coverage mentions ${first.term})` : "";
  return `It bears on ${inSentence(topic)}${detail}, which shapes decisions for ${who}.`;
}

/** "an" before a vowel sound ("an analyst", "an IT manager", "an MBA"), else "a" ("a user researcher"). */
function article(phrase: string): "a" | "an" {
  const w = phrase.trim();
  // An acronym is read letter by letter: "an EU", "an MBA", "a US", "a UX".
  const acronym = w.match(/^[A-Z]{2,}\b/)?.[0];
  if (acronym) return /^[AEFHILMNORSX]/.test(acronym) ? "an" : "a";
  if (/^(?:uni|use|usu|ur[aeo]|eu|one\b|once)/i.test(w)) return "a";
  return /^(?:[aeiou]|hour|honou?r|hones)/i.test(w) || /^[FHLMNRSX][A-Z]/.test(w) ? "an" : "a";
}

/** Lower case for the middle of a sentence, except acronyms and names written with inner capitals ("EU AI rules", "IT"). */
const inSentence = (text: string) =>
  text.replace(/\p{L}[\p{L}\p{N}'’-]*/gu, (w) => (/\p{Lu}.*\p{Lu}/u.test(w) ? w : w.toLowerCase()));

export const WHY_PROMPT_VERSION = "why-v1";
const PROVIDER = `llm/${WHY_PROMPT_VERSION}`;

const WHY_SYSTEM = `You tell a professional, in one or two sentences, why a news story matters for their work.
Use only facts stated in the story summary you are given; add no figures, names or quotes of your own.
Be concrete about the consequence for someone in that role and industry. No hype, no advice to "stay informed".
Answer with one JSON object: {"text": string}`;

const whySchema = z.object({ text: z.string().trim().min(10).max(400) });

/** The segment a "why it matters" is written for: role × industry, as the profile states them. */
export function segmentOf(p: { role: string; industry: string }): string {
  const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, " ");
  return `${norm(p.role)} | ${norm(p.industry)}`;
}

/**
 * Model-written "why it matters", one per (story, role × industry segment), stored in
 * story_insights and reused by every subscriber of the segment, so model calls grow with stories
 * and segments, never with subscribers. One instance per briefing run: after the first failed or
 * refused call the rest of the run uses the offline text, so a failing model never holds up the send.
 */
export class SegmentInsights {
  /** Segment -> story id -> the insight: nested, so a lookup builds no key string (one per pick). */
  private readonly memo = new Map<string, Map<string, Promise<string | null>>>();
  /** Stored insights read in one query for a whole batch (story id + segment -> row). */
  private stored: Map<string, typeof storyInsights.$inferSelect> | null = null;
  private modelDown = false;
  /** Role -> industry -> segment (segmentOf). */
  private readonly segments = new Map<string, Map<string, string>>();
  constructor(private readonly deps: Pick<Deps, "db" | "clock" | "llm" | "logger">) {}

  /** Reads the stored insights of these stories for these readers' segments, once for the batch. */
  async preload(storyIds: string[], profiles: { role: string; industry: string }[]): Promise<void> {
    const segments = [...new Set(profiles.map(segmentOf))];
    this.stored ??= new Map();
    if (storyIds.length === 0 || segments.length === 0) return;
    const rows = await this.deps.db
      .select()
      .from(storyInsights)
      .where(
        and(anyOf(storyInsights.storyId, storyIds, "uuid"), anyOf(storyInsights.segment, segments, "text")),
      );
    for (const r of rows) this.stored.set(`${r.storyId}\n${r.segment}`, r);
  }

  /** segmentOf, remembered per role and industry: asked for every pick of every reader of a run. */
  segmentFor(profile: { role: string; industry: string }): string {
    let byIndustry = this.segments.get(profile.role);
    if (!byIndustry) {
      byIndustry = new Map();
      this.segments.set(profile.role, byIndustry);
    }
    let segment = byIndustry.get(profile.industry);
    if (segment === undefined) {
      segment = segmentOf(profile);
      byIndustry.set(profile.industry, segment);
    }
    return segment;
  }

  async whyItMatters(ranked: Ranked, profile: { role: string; industry: string }, summary: StorySummary) {
    const segment = this.segmentFor(profile);
    let ofSegment = this.memo.get(segment);
    if (!ofSegment) {
      ofSegment = new Map();
      this.memo.set(segment, ofSegment);
    }
    let pending = ofSegment.get(summary.storyId);
    if (!pending) {
      pending = this.insight(summary, segment, profile);
      ofSegment.set(summary.storyId, pending);
    }
    return (await pending) ?? whyItMattersOffline(ranked, profile);
  }

  private async insight(
    summary: StorySummary,
    segment: string,
    profile: { role: string; industry: string },
  ): Promise<string | null> {
    const { deps } = this;
    const [cached] = this.stored
      ? [this.stored.get(`${summary.storyId}\n${segment}`)]
      : await deps.db
          .select()
          .from(storyInsights)
          .where(and(eq(storyInsights.storyId, summary.storyId), eq(storyInsights.segment, segment)));
    // A new story revision or a new prompt makes the cached text stale.
    if (cached && cached.storyRevision >= summary.storyRevision && cached.provider === PROVIDER)
      return cached.text;
    if (!deps.llm || this.modelDown) return null;

    const story = [
      `Headline: ${summary.headline}`,
      ...summary.keyPoints.map((k) => `- ${k.text}`),
      ...summary.analysis.map((a) => a.text),
    ].join("\n");
    const answer = await callModel(deps, {
      purpose: "why_it_matters",
      storyId: summary.storyId,
      system: WHY_SYSTEM,
      user: `Reader: a ${profile.role} in ${profile.industry}.\n\nStory summary:\n${story}`,
      maxTokens: 200,
    });
    if (answer.status !== "ok") {
      this.modelDown = true;
      return null;
    }
    const parsed = whySchema.safeParse(answer.json);
    const text = parsed.success ? parsed.data.text : "";
    const problems = parsed.success
      ? verifyFacts(text, [
          { n: 1, title: summary.headline, content: story },
          { n: 2, title: profile.role, content: profile.industry },
        ]).map((p) => p.detail)
      : ["the answer does not match {text}"];
    if (text && (splitSentences(text).length > 2 || wordCount(text) > 70))
      problems.push("longer than two sentences");
    if (text) problems.push(...offBrief(text, story));
    if (problems.length > 0) {
      await rejectCall(deps, answer.callId, problems.join("; "));
      return null;
    }
    await deps.db
      .insert(storyInsights)
      .values({
        storyId: summary.storyId,
        segment,
        storyRevision: summary.storyRevision,
        text,
        provider: PROVIDER,
      })
      .onConflictDoUpdate({
        target: [storyInsights.storyId, storyInsights.segment],
        set: { text, storyRevision: summary.storyRevision, provider: PROVIDER, createdAt: deps.clock.now() },
      });
    return text;
  }
}

const INSTRUCTION_TERMS = new Set(terms(WHY_SYSTEM));

/**
 * What makes a why-it-matters line wrong whatever its facts: its own instructions repeated back
 * (a model that leaked its prompt wrote "You tell a professional ... why a news story matters"),
 * or another language than the story's.
 */
export function offBrief(text: string, story: string): string[] {
  const problems: string[] = [];
  const words = [...new Set(terms(text))];
  const fromInstructions = words.filter((w) => INSTRUCTION_TERMS.has(w)).length;
  if (words.length > 0 && fromInstructions / words.length >= 0.6) problems.push("repeats its instructions");
  const language = detectLanguage(text);
  if (language && language !== (detectLanguage(story) ?? "en"))
    problems.push(`written in "${language}", not in the story's language`);
  return problems;
}
