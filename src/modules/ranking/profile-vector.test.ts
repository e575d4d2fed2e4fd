import { describe, expect, it } from "vitest";
import { taxonomyConcepts } from "./profile-vector.ts";

describe("taxonomyConcepts", () => {
  it("counts a concept named by both the role and the industry once, at the higher weight", () => {
    // Lawyers and legal services both list courts & litigation and regulation & enforcement.
    const concepts = taxonomyConcepts("Attorney", "Legal services");
    const labels = concepts.map((c) => c.label);
    expect(new Set(labels).size).toBe(labels.length);
    const courts = concepts.find((c) => c.label === "Courts & litigation");
    expect(courts?.weight).toBe(1.2);
  });

  it("weighs the specialty a role names beyond its taxonomy entry above the generic concepts", () => {
    const concepts = taxonomyConcepts("Immigration attorney", "Legal services");
    const immigration = concepts.find((c) => c.label === "Immigration & visas");
    expect(immigration).toBeDefined();
    const others = concepts.filter((c) => c !== immigration).map((c) => c.weight);
    expect(immigration!.weight).toBeGreaterThan(Math.max(...others));
  });

  it("takes a leftover word for a specialty only when it names a concept or two, not a whole field", () => {
    // "policy" names a dozen concepts (health, energy, farm, housing ...): none of them is this reader's.
    const labels = taxonomyConcepts("Tech policy counsel", "Internet platforms").map((c) => c.label);
    expect(labels.filter((l) => /policy/i.test(l))).toEqual([]);
  });

  it("finds the concept a role names whole, with or without a taxonomy entry for the role", () => {
    const publicHealth = taxonomyConcepts("Public health official", "State government").find(
      (c) => c.label === "Public health",
    );
    expect(publicHealth?.weight).toBeGreaterThan(2);
    const labels = taxonomyConcepts("Union organizer", "Labor union").map((c) => c.label);
    expect(labels).toContain("Labor & unions");
    // Not the banking entry, whose aliases include "credit union".
    expect(labels).not.toContain("Credit & lending");
  });

  it("keeps every term of merged concepts", () => {
    const concepts = taxonomyConcepts("Attorney", "Legal services");
    const enforcement = concepts.find((c) => c.label === "Regulation & enforcement")!;
    const stems = enforcement.terms.map((t) => t.stem);
    // "rulemaking" is only on the role's list, "deferred prosecution" only on the industry's.
    expect(stems.some((s) => s.startsWith("rulemak"))).toBe(true);
    expect(stems.some((s) => s.startsWith("defer"))).toBe(true);
  });
});
