import { describe, expect, it } from "vitest";
import { useSampleNews } from "../../../test/sample-news.ts";
import { createApp } from "../../app.ts";
import { createSubscriber, getSubscriber, updateProfile } from "../profiles/index.ts";
import type { StoryView } from "../summaries/index.ts";
import { generateBriefings, getBriefingForDate, recordFeedback, withoutMutedOutlets } from "./index.ts";

const news = useSampleNews();

const story = (): StoryView => ({
  id: "00000000-0000-4000-8000-000000000001",
  headline: "Port reopens",
  singleSource: false,
  keyPoints: [
    { text: "The port reopened.", citations: [1] },
    { text: "Backlogs will take a week.", citations: [1, 2] },
    { text: "Storage charges rise.", citations: [3] },
  ],
  analysis: [
    { text: "Importers pay more.", citations: [2] },
    { text: "Shipping lines reroute.", citations: [1] },
  ],
  whyItMatters: null,
  sources: [1, 2, 3].map((n) => ({
    n,
    outlet: `Outlet ${n}`,
    domain: ["wire.example", "news.ledger.example", "gazette.co.uk"][n - 1]!,
    url: `https://example.org/${n}`,
    title: `Title ${n}`,
    publishedAt: "2026-11-27T05:00:00.000Z",
  })),
  summaryVersion: 1,
  generatedBy: "extractive",
});

describe("stories read by a reader who muted some of their outlets", () => {
  it("drop the muted sources, their citations and the sentences left citing nothing", () => {
    const shown = withoutMutedOutlets(story(), new Set(["ledger"]));
    expect(shown.sources.map((s) => s.n)).toEqual([1, 3]);
    expect(shown.keyPoints.map((k) => k.citations)).toEqual([[1], [1], [3]]);
    expect(shown.analysis.map((a) => a.text)).toEqual(["Shipping lines reroute."]);
    const cited = [...shown.keyPoints, ...shown.analysis].flatMap((t) => t.citations);
    expect(cited.every((n) => shown.sources.some((s) => s.n === n))).toBe(true);
    expect(shown.singleSource).toBe(false);
    const two = withoutMutedOutlets(story(), new Set(["ledger.example", "gazette"]));
    expect(two.sources.map((s) => s.domain)).toEqual(["wire.example"]);
    expect(two.singleSource).toBe(true);
  });

  it("are shown whole when nothing of theirs is muted, when every outlet is, or when no key point would be left", () => {
    const original = story();
    expect(withoutMutedOutlets(original, new Set())).toBe(original);
    expect(withoutMutedOutlets(original, new Set(["elsewhere.example"]))).toBe(original);
    expect(withoutMutedOutlets(original, new Set(["wire.example", "ledger", "gazette"]))).toBe(original);
    expect(withoutMutedOutlets(original, new Set(["wire.example", "gazette"])).keyPoints).toHaveLength(1);
    const leanOnOne = { ...story(), keyPoints: [{ text: "Only the wire says so.", citations: [1] }] };
    expect(withoutMutedOutlets(leanOnOne, new Set(["wire.example"]))).toBe(leanOnOne);
  });

  it("in the app: muting an outlet takes it out of today's briefing at once, though it was read from memory", async () => {
    const app = createApp(news.deps);
    const { subscriber, token } = await createSubscriber(news.deps, {
      email: "muter@example.com",
      role: "Portfolio manager",
      industry: "Asset management",
      interests: ["interest rates", "artificial intelligence", "ports"],
      timezone: "UTC",
      deliveryTime: "07:00",
    });
    await generateBriefings(news.deps, { subscriberIds: [subscriber.id] });
    const auth = { authorization: `Bearer ${token}` };
    type Briefing = { items: { story: StoryView }[] };
    const today = async () => {
      const res = await app.request("/v1/briefings/today", { headers: auth });
      expect(res.status).toBe(200);
      return (await res.json()) as Briefing;
    };
    const before = await today();
    await today(); // now from memory
    const shared = before.items
      .map((i) => i.story)
      .find((s) => new Set(s.sources.map((x) => x.domain)).size > 1);
    expect(shared, "a story covered by several outlets").toBeDefined();
    const muted = shared!.sources[0]!.domain;
    const patched = await app.request("/v1/me", {
      method: "PATCH",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ mutedSources: [muted] }),
    });
    expect(patched.status).toBe(200);
    const after = (await today()).items.map((i) => i.story).find((s) => s.id === shared!.id)!;
    expect(after.sources.map((s) => s.domain)).not.toContain(muted);
    for (const t of [...after.keyPoints, ...after.analysis])
      for (const n of t.citations) expect(after.sources.map((s) => s.n)).toContain(n);
    // The story's own page reads the same way.
    const page = await app.request(`/v1/stories/${shared!.id}`, { headers: auth });
    const read = (await page.json()) as StoryView;
    expect(read.sources.map((s) => s.domain)).not.toContain(muted);
  });

  it("'Hide this outlet' mutes the outlet the reader's view leads with, not one muted already", async () => {
    const { subscriber } = await createSubscriber(news.deps, {
      email: "hider@example.com",
      role: "Portfolio manager",
      industry: "Asset management",
      interests: ["interest rates", "ports"],
      timezone: "UTC",
      deliveryTime: "07:00",
    });
    await generateBriefings(news.deps, { subscriberIds: [subscriber.id] });
    const before = await getBriefingForDate(news.deps, subscriber.id, "2026-11-27");
    const story = before.items
      .map((i) => i.story)
      .find((s) => new Set(s.sources.map((x) => x.domain)).size > 2)!;
    const [first, second] = [...new Set(story.sources.map((x) => x.domain))];
    const muted = await updateProfile(news.deps, subscriber.id, { mutedSources: [first!] });
    const shown = (await getBriefingForDate(news.deps, subscriber.id, "2026-11-27")).items.find(
      (i) => i.story.id === story.id,
    )!.story;
    expect(shown.sources[0]!.domain).toBe(second);
    await recordFeedback(news.deps, muted, story.id, "hide_source");
    expect((await getSubscriber(news.deps, subscriber.id)).mutedSources).toEqual([first, second]);
  });
});
