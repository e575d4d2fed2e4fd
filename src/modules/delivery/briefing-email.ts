import type { CompiledTemplate } from "../../lib/mjml-templates.ts";
import { formatLongDate } from "../../lib/time.ts";
import type { BriefingView } from "../briefings/index.ts";

export type EmailRecipient = {
  email: string;
  name: string | null;
  timezone: string;
  deliveryTime: string;
};

export type EmailLinks = { preferencesUrl?: string; unsubscribeUrl?: string };

// Building an Intl.DateTimeFormat costs more than filling the whole template, and a morning's
// emails share a handful of dates: remembered per date (bounded, pure).
const longDates = new Map<string, string>();
function longDate(date: string): string {
  let s = longDates.get(date);
  if (s === undefined) {
    if (longDates.size > 1000) longDates.clear();
    s = formatLongDate(date);
    longDates.set(date, s);
  }
  return s;
}

/** The fields the briefing template reads; built once per email, no markup in it. */
export function briefingEmailModel(briefing: BriefingView, to: EmailRecipient, links: EmailLinks = {}) {
  const dateLong = longDate(briefing.date);
  const first = briefing.items[0]?.story.headline ?? "";
  return {
    subject: `Your Daybreak briefing for ${dateLong}: ${first}`.slice(0, 180),
    preview: briefing.items
      .map((i) => i.story.headline)
      .join(" · ")
      .slice(0, 150),
    dateLong,
    greeting: to.name ? `Good morning, ${to.name}.` : "Good morning.",
    intro: `${briefing.items.length} stories picked for your work today, every point linked to its source.`,
    email: to.email,
    timezone: to.timezone,
    deliveryTime: to.deliveryTime,
    ...links,
    stories: briefing.items.map((item) => {
      const byN = new Map(item.story.sources.map((s) => [s.n, s]));
      return {
        rank: item.rank,
        reason: item.reason,
        headline: item.story.headline,
        whyItMatters: item.story.whyItMatters,
        singleSource: item.story.singleSource,
        sourcesLine: `Sources: ${[...new Set(item.story.sources.map((s) => s.outlet))].join(", ")}`,
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
    lines.push(`${s.rank}. ${s.headline}`, `   ${s.reason}`, "");
    for (const kp of s.keyPoints) {
      lines.push(`   - ${kp.text} ${kp.cites.map((c) => `(${c.domain}) ${c.url}`).join(" ")}`);
    }
    if (s.whyItMatters) lines.push("", `   Why it matters to you: ${s.whyItMatters}`);
    lines.push(`   ${s.sourcesLine}${s.singleSource ? " · single source" : ""}`, "");
  }
  lines.push(
    "--",
    `You receive Daybreak at ${model.email} every morning at ${model.deliveryTime} (${model.timezone}).`,
  );
  if (model.preferencesUrl) lines.push(`Manage preferences: ${model.preferencesUrl}`);
  if (model.unsubscribeUrl) lines.push(`Unsubscribe: ${model.unsubscribeUrl}`);
  return `${lines.join("\n")}\n`;
}

export function renderBriefingEmail(template: CompiledTemplate, model: BriefingEmailModel) {
  return { subject: model.subject, html: template.render(model), text: briefingText(model) };
}
