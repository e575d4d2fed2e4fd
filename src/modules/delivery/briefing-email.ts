import type { CompiledTemplate } from "../../lib/mjml-templates.ts";
import { truncate } from "../../lib/text.ts";
import { formatLongDate, formatShortDate } from "../../lib/time.ts";
import type { BriefingView } from "../briefings/index.ts";
import { storyLinkSigner } from "../profiles/index.ts";

export type EmailRecipient = {
  email: string;
  name: string | null;
  timezone: string;
  deliveryTime: string;
};

/** Absolute URLs of one story's links: read in the app, share, and the feedback signals. */
export type StoryLinks = {
  read: string;
  share: string;
  up: string;
  down: string;
  more: string;
  less: string;
  hideSource: string;
};

export type EmailLinks = {
  preferencesUrl?: string;
  unsubscribeUrl?: string;
  /** Signed per-story links for this subscriber; without it the email has no per-story links. */
  storyLinks?: (storyId: string) => StoryLinks;
};

/**
 * One subscriber's signed per-story links (routes in src/modules/email-actions/). The template
 * writes them unescaped ({{{ }}}): they are the base URL, made safe here once per email, and
 * base64url tokens, eight links a story that need no escaping pass.
 */
export function storyLinkUrls(
  config: { publicBaseUrl: string; linkSecret: string },
  subscriberId: string,
): (storyId: string) => StoryLinks {
  const sign = storyLinkSigner(config.linkSecret, subscriberId);
  const base = config.publicBaseUrl.replace(
    /["'<>&`\s]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  return (id) => {
    const t = sign(id);
    return {
      read: `${base}/read/${t.read}`,
      share: `${base}/share/${t.share}`,
      up: `${base}/feedback/${t.up}`,
      down: `${base}/feedback/${t.down}`,
      more: `${base}/feedback/${t.more}`,
      less: `${base}/feedback/${t.less}`,
      hideSource: `${base}/feedback/${t.hide_source}`,
    };
  };
}

// Building an Intl.DateTimeFormat costs more than filling the whole template, and a morning's
// emails share a handful of dates: each form remembered per date (bounded, pure).
function rememberedPerDate(format: (date: string) => string): (date: string) => string {
  const seen = new Map<string, string>();
  return (date) => {
    let s = seen.get(date);
    if (s === undefined) {
      if (seen.size > 1000) seen.clear();
      s = format(date);
      seen.set(date, s);
    }
    return s;
  };
}
const longDate = rememberedPerDate((d) => formatLongDate(d));
const shortDate = rememberedPerDate((d) => formatShortDate(d));

const QUIET_DAY =
  "Nothing new for you today: every story so far was in an earlier briefing or is muted in your preferences.";

/** The greeting for the reader's delivery time: a briefing read at 22:30 is not a morning's. */
function greetingAt(deliveryTime: string): string {
  const hour = Number(deliveryTime.slice(0, 2));
  if (hour >= 5 && hour < 12) return "Good morning";
  if (hour >= 12 && hour < 18) return "Good afternoon";
  return "Good evening";
}

/** The fields the briefing template reads; built once per email, no markup in it. */
export function briefingEmailModel(briefing: BriefingView, to: EmailRecipient, links: EmailLinks = {}) {
  const dateLong = longDate(briefing.date);
  const first = briefing.items[0]?.story.headline ?? "";
  const { storyLinks, ...footerLinks } = links;
  return {
    // Cut on whole characters and words: a cut through an emoji's surrogate pair showed "�".
    // The headline early: a phone shows 35-40 characters of a subject, and the sender's name
    // already says Daybreak ("Your Daybreak briefing for Friday, 27 November 2026: " was 53).
    subject: truncate(`${shortDate(briefing.date)}: ${first || "nothing new today"}`, 180),
    // The inbox shows it after the subject, which names the first story: the others, then.
    preview: truncate(
      briefing.items.length > 1
        ? `Also today: ${briefing.items
            .slice(1)
            .map((i) => i.story.headline)
            .join(" · ")}`
        : briefing.items.length === 1
          ? "One story picked for your work today, every point linked to its source."
          : QUIET_DAY,
      150,
    ),
    dateLong,
    greeting: `${greetingAt(to.deliveryTime)}${to.name ? `, ${to.name}` : ""}.`,
    intro:
      briefing.items.length === 0
        ? QUIET_DAY
        : `${briefing.items.length === 1 ? "One story" : `${briefing.items.length} stories`} picked for your work today, every point linked to its source.`,
    email: to.email,
    timezone: to.timezone,
    deliveryTime: to.deliveryTime,
    ...footerLinks,
    stories: briefing.items.map((item) => {
      const byN = new Map(item.story.sources.map((s) => [s.n, s]));
      return {
        rank: item.rank,
        reason: item.reason,
        headline: item.story.headline,
        whyItMatters: item.story.whyItMatters,
        singleSource: item.story.singleSource,
        sourcesLine: `Sources: ${[...new Set(item.story.sources.map((s) => s.outlet))].join(", ")}`,
        // "Hide" mutes the outlet the story leads with (recordFeedback's hide_source).
        leadOutlet: item.story.sources[0]?.outlet ?? "this source",
        links: storyLinks ? storyLinks(item.story.id) : null,
        keyPoints: item.story.keyPoints.map((kp) => ({
          text: kp.text,
          cites: kp.citations
            .map((n) => byN.get(n))
            .filter((s) => s !== undefined)
            .map((s) => ({ url: s.url, domain: s.domain })),
        })),
      };
    }),
  };
}

export type BriefingEmailModel = ReturnType<typeof briefingEmailModel>;

/** The text/plain part: the same content, citations as "(domain) URL". */
export function briefingText(model: BriefingEmailModel): string {
  const lines = [`DAYBREAK · ${model.dateLong}`, "", model.greeting, model.intro, ""];
  for (const s of model.stories) {
    lines.push(`${s.rank}. ${s.headline}`, "");
    for (const kp of s.keyPoints) {
      lines.push(`   - ${kp.text} ${kp.cites.map((c) => `(${c.domain}) ${c.url}`).join(" ")}`);
    }
    lines.push("");
    if (s.whyItMatters) lines.push(`   Why it matters to you: ${s.whyItMatters}`);
    lines.push(
      `   Why you're seeing this: ${s.reason}`,
      `   ${s.sourcesLine}${s.singleSource ? " · single source" : ""}`,
    );
    const l = s.links;
    if (l) {
      lines.push(
        "",
        `   Read in Daybreak: ${l.read}`,
        `   Share: ${l.share}`,
        `   Useful: ${l.up}`,
        `   Not useful: ${l.down}`,
        `   More like this: ${l.more}`,
        `   Less like this: ${l.less}`,
        `   Hide ${s.leadOutlet}: ${l.hideSource}`,
      );
    }
    lines.push("");
  }
  lines.push(
    "--",
    `You receive Daybreak at ${model.email} every day at ${model.deliveryTime} (${model.timezone}).`,
  );
  if (model.preferencesUrl) lines.push(`Manage preferences: ${model.preferencesUrl}`);
  if (model.unsubscribeUrl) lines.push(`Unsubscribe: ${model.unsubscribeUrl}`);
  return `${lines.join("\n")}\n`;
}

export function renderBriefingEmail(template: CompiledTemplate, model: BriefingEmailModel) {
  return { subject: model.subject, html: template.render(model), text: briefingText(model) };
}
