import { describe, expect, it } from "vitest";
import { type ClusterDoc, StoryClusterer } from "./clustering.ts";

const doc = (
  id: string,
  title: string,
  content: string,
  at: string,
  domain = `${id}.example`,
): ClusterDoc => ({
  id,
  title,
  content,
  publishedAt: new Date(at),
  domain,
});

const strikeA = doc(
  "a",
  "Dockworkers at Rotterdam and Antwerp walk out over crane automation",
  "Dockworkers at Rotterdam and Antwerp began a 72-hour strike on Thursday over automated cranes. Shipping lines warned of delays and higher freight rates for Asia-Europe cargo.",
  "2026-11-26T06:00:00Z",
);
const strikeB = doc(
  "b",
  "Rotterdam, Antwerp port strike pushes up container freight rates",
  "A strike at the ports of Rotterdam and Antwerp is pushing container freight rates higher, forwarders said, as ships queue at anchor and dockworkers protest automation.",
  "2026-11-26T10:00:00Z",
);
const outage = doc(
  "c",
  "Nimbara Cloud outage knocks payment systems offline",
  "A configuration change at Nimbara Cloud took down identity services in its Frankfurt region, knocking payment systems and airline check-in offline for hours.",
  "2026-11-26T09:00:00Z",
);

function cluster(docs: ClusterDoc[]) {
  const c = new StoryClusterer([], docs);
  return docs.map((d) => c.assign(d).story);
}

describe("StoryClusterer", () => {
  it("puts two outlets' reports of one event into one story with both outlets", () => {
    const [s1, s2, s3] = cluster([strikeA, outage, strikeB]);
    expect(s1).toBe(s3);
    expect(s2).not.toBe(s1);
    expect([...s1!.domains].sort()).toEqual(["a.example", "b.example"]);
    expect(s1!.added.map((d) => d.id)).toEqual(["a", "b"]);
  });

  it("starts a new story for the same words four days later (outside the window)", () => {
    const later = { ...strikeB, id: "late", publishedAt: new Date("2026-11-30T10:00:00Z") };
    const [s1, s2] = cluster([strikeA, later]);
    expect(s2).not.toBe(s1);
  });

  it("joins an article to a story loaded from the window, keeping that story's id", () => {
    const first = new StoryClusterer([], [strikeA]);
    const stored = { ...first.assign(strikeA).story, id: "story-1", added: [] };
    const next = new StoryClusterer([stored], [strikeB]);
    const r = next.assign(strikeB);
    expect(r.joined).toBe(true);
    expect(r.story.id).toBe("story-1");
  });
});
