import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { BriefingView } from "../briefings/index.ts";
import { readStoryLinkToken } from "../profiles/index.ts";
import { briefingEmailModel, briefingText, storyLinkUrls } from "./briefing-email.ts";

const secret = "a-test-secret-of-enough-length-0123456789";

describe("storyLinkUrls", () => {
  it("gives each story absolute read, share and five feedback URLs signed for that subscriber", () => {
    const subscriberId = randomUUID();
    const storyId = randomUUID();
    const links = storyLinkUrls(
      { publicBaseUrl: "https://daybreak.example", linkSecret: secret },
      subscriberId,
    )(storyId);
    const expected = {
      read: ["read", "read"],
      share: ["share", "share"],
      up: ["feedback", "up"],
      down: ["feedback", "down"],
      more: ["feedback", "more"],
      less: ["feedback", "less"],
      hideSource: ["feedback", "hide_source"],
    } as const;
    for (const [key, [route, action]] of Object.entries(expected)) {
      const url = new URL(links[key as keyof typeof links]);
      expect(url.origin).toBe("https://daybreak.example");
      const [, first, token] = url.pathname.split("/");
      expect(first).toBe(route);
      expect(readStoryLinkToken(secret, token!)).toEqual({ subscriberId, storyId, action });
    }
  });

  it("makes a base URL safe to write unescaped into an attribute", () => {
    const links = storyLinkUrls(
      { publicBaseUrl: `https://x.example/a"b<c>&'d`, linkSecret: secret },
      randomUUID(),
    )(randomUUID());
    for (const url of Object.values(links)) expect(url).not.toMatch(/["'<>&\s]/);
  });
});

describe("briefingEmailModel", () => {
  it("says 'nothing new today' for a briefing with no stories, in the subject, preview and both parts", () => {
    const quiet = {
      id: randomUUID(),
      date: "2026-11-27",
      subscriberId: randomUUID(),
      generatedAt: "2026-11-27T06:00:00.000Z",
      items: [],
      alsoToday: [],
    } as unknown as BriefingView;
    const email = briefingEmailModel(quiet, {
      email: "quiet@example.com",
      name: null,
      timezone: "UTC",
      deliveryTime: "07:00",
    });
    expect(email.subject).toBe("Fri 27 Nov: nothing new today");
    expect(email.preview).toMatch(/^Nothing new for you today/);
    expect(email.intro).toMatch(/^Nothing new for you today/);
    expect(email.stories).toEqual([]);
    expect(briefingText(email)).toContain("Nothing new for you today");
  });

  it("cuts a long subject and preview on whole characters and words, with an ellipsis", () => {
    // A run of emoji across each cut (one or two letters before it put the subject's and the
    // preview's cut through a surrogate pair in turn), and a headline with words.
    for (const headline of [
      "A🚢".padEnd(240, "🚢"),
      "AA🚢".padEnd(240, "🚢"),
      "Port of Valmora reopens ".repeat(9),
    ]) {
      const long = {
        id: randomUUID(),
        date: "2026-11-27",
        subscriberId: randomUUID(),
        generatedAt: "2026-11-27T06:00:00.000Z",
        items: [1, 2].map((rank) => ({
          rank,
          story: { id: randomUUID(), headline, keyPoints: [], analysis: [], sources: [] },
        })),
        alsoToday: [],
      } as unknown as BriefingView;
      const email = briefingEmailModel(long, {
        email: "a@example.com",
        name: null,
        timezone: "UTC",
        deliveryTime: "07:00",
      });
      for (const [text, max] of [
        [email.subject, 180],
        [email.preview, 150],
      ] as const) {
        expect(text.length).toBeLessThanOrEqual(max);
        expect(text).toMatch(/…$/);
        expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no half of a surrogate pair
      }
    }
  });

  it("greets the reader for the time their briefing arrives", () => {
    const quiet = {
      id: randomUUID(),
      date: "2026-11-27",
      subscriberId: randomUUID(),
      items: [],
      alsoToday: [],
    };
    const greeting = (deliveryTime: string, name: string | null = null) =>
      briefingEmailModel(quiet as unknown as BriefingView, {
        email: "a@example.com",
        name,
        timezone: "UTC",
        deliveryTime,
      }).greeting;
    expect(greeting("07:00", "Ana")).toBe("Good morning, Ana.");
    expect(greeting("13:30")).toBe("Good afternoon.");
    expect(greeting("22:30", "Evening Reader")).toBe("Good evening, Evening Reader.");
    expect(greeting("02:00")).toBe("Good evening.");
  });

  it("previews the stories the subject does not name", () => {
    const briefing = (headlines: string[]) =>
      ({
        id: randomUUID(),
        date: "2026-11-27",
        subscriberId: randomUUID(),
        items: headlines.map((headline, k) => ({
          rank: k + 1,
          story: { id: randomUUID(), headline, keyPoints: [], analysis: [], sources: [] },
        })),
        alsoToday: [],
      }) as unknown as BriefingView;
    const to = { email: "a@example.com", name: null, timezone: "UTC", deliveryTime: "07:00" };
    const three = briefingEmailModel(briefing(["Port reopens", "ECB holds", "Chip rules"]), to);
    expect(three.subject).toMatch(/: Port reopens$/);
    expect(three.preview).toBe("Also today: ECB holds · Chip rules");
    expect(briefingEmailModel(briefing(["Port reopens"]), to).preview).toMatch(/^One story picked/);
  });
});
