import { describe, expect, it } from "vitest";
import { type ProfileConcept, type ProfileVector, stemPhrase } from "./profile-vector.ts";
import {
  explain,
  mutedSourceKeys,
  prepareCandidates,
  rankForProfile,
  type StoryText,
} from "./ranking.service.ts";

const now = new Date("2026-11-28T06:00:00Z");
const story = (storyId: string, headline: string, text: string): StoryText => ({
  storyId,
  headline,
  texts: [text],
  outletCount: 3,
  domains: [`${storyId}.example`],
  lastSeenAt: now,
  revision: 1,
});
const concept = (label: string, words: string[], weight = 1.2): ProfileConcept => ({
  label,
  terms: words.map((w) => ({ stem: stemPhrase(w), text: w })),
  weight,
  kind: "industry",
});
const order = (profile: ProfileVector, stories: StoryText[]) => {
  const { candidates, idf } = prepareCandidates(stories);
  return rankForProfile(profile, candidates, idf, { now, limit: stories.length }).picked.map(
    (r) => r.storyId,
  );
};

// Filler stories give the terms realistic document frequencies.
const filler = Array.from({ length: 30 }, (_, i) =>
  story(
    `f${i}`,
    `Local council meets on parks plan ${i}`,
    "The council discussed parks, roads and libraries.",
  ),
);

describe("RankingRun relevance", () => {
  it("puts a story squarely about one of the reader's concepts above one that brushes several", () => {
    const profile: ProfileVector = {
      concepts: [
        concept("Reimbursement", ["medicaid", "reimbursement"]),
        concept("Labor", ["workers"]),
        concept("Records", ["records"]),
        concept("Weather", ["storm"]),
        concept("Fuel", ["diesel"]),
      ],
      muted: [],
    };
    const focused = story(
      "focused",
      "Medicaid reimbursement cut",
      "Medicaid reimbursement rates fall; Medicaid reimbursement for hospitals will shrink under the Medicaid rule.",
    );
    // One word each of four concepts: summed plainly, this outscored the focused story.
    const broad = story(
      "broad",
      "A busy week in town",
      "Workers noted records as a storm raised diesel use.",
    );
    expect(order(profile, [broad, focused, ...filler]).slice(0, 2)).toEqual(["focused", "broad"]);
  });

  it("matches followed names and muted topics of three words and more as phrases, in their order", () => {
    const bayview = story(
      "bayview",
      "Bayview Health Partners buys two clinics",
      "Bayview Health Partners said the deal closes in spring.",
    );
    const ecb = story(
      "ecb",
      "Bund yields slide as ECB signals rate cuts",
      "ECB rate cuts are expected in March.",
    );
    const other = story("other", "Bayview council approves health budget", "Partners of the council met.");
    const followed: ProfileVector = {
      concepts: [
        {
          label: "Bayview Health Partners",
          terms: [{ stem: stemPhrase("Bayview Health Partners"), text: "bayview health partners" }],
          weight: 3,
          kind: "followed",
        },
      ],
      muted: [],
    };
    expect(order(followed, [other, ecb, bayview, ...filler])[0]).toBe("bayview");
    // The words apart, not in that order, are no match.
    const { candidates, idf } = prepareCandidates([other, ...filler]);
    const picked = rankForProfile(followed, candidates, idf, { now, limit: 5 }).picked;
    expect(picked.flatMap((r) => r.matched.map((m) => m.label))).not.toContain("Bayview Health Partners");
    const muting: ProfileVector = { concepts: [], muted: [stemPhrase("ECB rate cuts").split(" ")] };
    expect(order(muting, [ecb, bayview, ...filler])).not.toContain("ecb");
    // Its words in other order, each pair somewhere, is another story: not muted.
    const fed = story("fed", "ECB rate decision due", "Traders expect Fed rate cuts before the ECB moves.");
    expect(order(muting, [fed, ...filler])).toContain("fed");
  });

  it("puts a story about a followed name above one that matches only the role's broad concepts", () => {
    const followedClub: ProfileConcept = {
      label: "Redmoor Athletic",
      terms: [{ stem: stemPhrase("Redmoor Athletic"), text: "redmoor athletic" }],
      weight: 3,
      kind: "followed",
    };
    const profile: ProfileVector = {
      concepts: [
        followedClub,
        concept("Rates", ["bond yields", "yields", "central bank"], 1.2),
        concept("Markets", ["bund", "bonds", "investors"], 1.2),
        concept("Macro", ["inflation", "rate cuts"], 0.8),
      ],
      muted: [],
    };
    const club = story(
      "club",
      "Redmoor Athletic sold to US investors",
      "The Redmoor Athletic deal was agreed on Monday.",
    );
    const bonds = story(
      "bonds",
      "Bund yields slide as central bank signals rate cuts",
      "Bond yields fell as investors bet on rate cuts; bund yields and inflation expectations eased as the central bank spoke. Bonds rallied.",
    );
    expect(order(profile, [bonds, club, ...filler])[0]).toBe("club");
  });

  it("says two followed names as one reason, not the second as a topic", () => {
    const followed = (label: string) => ({ label, term: label.toLowerCase(), kind: "followed" as const });
    expect(explain([followed("Huawei"), followed("Nvidia")], 3, false)).toBe(
      "You follow Huawei and Nvidia · 3 outlets",
    );
    expect(
      explain(
        [followed("Huawei"), { label: "Chip geopolitics", term: "export controls", kind: "industry" }],
        1,
        false,
      ),
    ).toBe("You follow Huawei · Chip geopolitics · 1 outlet");
  });

  it("mutes a source however the reader wrote it: domain in any case, URL, www., subdomain or name", () => {
    const keys = mutedSourceKeys([
      "HarborLedger.example",
      "https://www.Meridianwire.example/news/",
      "BBC.co.uk",
      "Circuit Signal",
    ]);
    const muted = (domain: string) => {
      const s = { ...story("s", "Port strike spreads", "Dock workers walked out."), domains: [domain] };
      const { candidates, idf } = prepareCandidates([s, ...filler]);
      const profile: ProfileVector = { concepts: [], muted: [] };
      const picked = rankForProfile(profile, candidates, idf, {
        now,
        limit: 40,
        mutedSources: [
          "HarborLedger.example",
          "https://www.Meridianwire.example/news/",
          "BBC.co.uk",
          "Circuit Signal",
        ],
      }).picked.map((r) => r.storyId);
      return !picked.includes("s");
    };
    expect([...keys].sort()).toEqual([
      "bbc.co.uk",
      "circuitsignal",
      "harborledger.example",
      "meridianwire.example",
    ]);
    expect(muted("harborledger.example")).toBe(true);
    expect(muted("meridianwire.example")).toBe(true);
    expect(muted("news.bbc.co.uk")).toBe(true);
    expect(muted("circuitsignal.example")).toBe(true);
    expect(muted("northgate.example")).toBe(false);
    expect(muted("notbbc.co.uk")).toBe(false);
    // A name mutes the site it names, not every site with that word in its host.
    expect(muted("bbc.co.uk.example")).toBe(false);
    expect(muted("circuitsignal.news.example")).toBe(false);
  });

  it("counts a concept that most of today's stories match for less than a rarer one", () => {
    // The pandemic weighs twice what insurance does for this reader, but nearly every story
    // today is about it: the one insurance story leads.
    const profile: ProfileVector = {
      concepts: [
        concept("Pandemic", ["covid", "vaccine", "outbreak"], 2.4),
        concept("Insurance", ["insurers", "premiums"]),
      ],
      muted: [],
    };
    const covid = Array.from({ length: 20 }, (_, i) =>
      story(
        `c${i}`,
        `Update ${i} on the outbreak`,
        i === 0
          ? "Covid vaccine outbreak: covid vaccine doses, outbreak covid vaccine clinics, covid outbreak."
          : "Covid outbreak news: covid cases, vaccine clinics, covid vaccine doses and outbreak rules.",
      ),
    );
    const insurance = story("ins", "Insurers raise premiums", "Insurers said premiums will rise next year.");
    expect(order(profile, [...covid, insurance, ...filler])[0]).toBe("ins");
  });
});

describe("a briefing's headlines", () => {
  it("never shows two stories under the same headline, in the picks or in 'also today'", () => {
    // One outlet's recurring "Breaking news" items, each a different body the clustering kept apart.
    const breaking = Array.from({ length: 8 }, (_, i) =>
      story(
        `b${i}`,
        i % 2 ? "BREAKING NEWS" : "Breaking news:",
        `Chip export controls tightened again, update ${i}.`,
      ),
    );
    const other = story("o1", "Chip tariffs raised", "Chip tariffs and export controls were raised.");
    const profile: ProfileVector = {
      concepts: [concept("Export controls", ["export controls", "chip"])],
      muted: [],
    };
    const { candidates, idf } = prepareCandidates([...breaking, other, ...filler]);
    const { picked, alsoToday } = rankForProfile(profile, candidates, idf, { now, limit: 5, alsoToday: 10 });
    const headline = (id: string) => candidates.find((c) => c.storyId === id)!.headline;
    const shown = [...picked, ...alsoToday].map((r) =>
      headline(r.storyId)
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, " ")
        .trim(),
    );
    expect(shown.filter((h) => h === "breaking news")).toHaveLength(1);
    expect(new Set(shown).size).toBe(shown.length);
  });
});
