import { stem, terms } from "../../lib/text.ts";
import { type Concept, INDUSTRIES, type IndustryEntry, ROLES, type RoleEntry } from "./taxonomy.data.ts";

/** A concept after stemming: the unit relevance is scored and explained in. */
/** `weight` (default 1) scales what a hit on this term counts. */
export type ConceptTerm = { stem: string; text: string; weight?: number };
export type ProfileConcept = {
  label: string;
  terms: ConceptTerm[];
  weight: number;
  kind: "interest" | "followed" | "industry" | "role";
  /** Identity of the concept's content, for caching its matches (set on first use). */
  key?: string;
};

export type ProfileInput = {
  role: string;
  industry: string;
  interests: string[];
  followed: { kind: string; name: string }[];
  mutedTopics: string[];
  preferenceWeights?: Record<string, number>;
};

export type ProfileVector = { concepts: ProfileConcept[]; muted: string[][] };

/** Stemmed form of a term or short phrase, words joined by spaces. */
export function stemPhrase(phrase: string): string {
  return terms(phrase).join(" ");
}

function normalizeName(s: string): string {
  return s
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/[^\p{L}\p{N} ]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Finds the taxonomy entry a free-text role or industry names: alias, name, or best word overlap. */
export function matchEntry<T extends IndustryEntry | RoleEntry>(entries: T[], text: string): T | null {
  const q = normalizeName(text);
  if (!q) return null;
  for (const e of entries) {
    if (normalizeName(e.name) === q || e.aliases.some((a) => normalizeName(a) === q)) return e;
  }
  const qWords = new Set(q.split(" ").map(stem));
  let best: T | null = null;
  let bestScore = 0;
  let bestOverlap = 0;
  for (const e of entries) {
    for (const name of [e.name, ...e.aliases]) {
      const words = normalizeName(name).split(" ").map(stem);
      const overlap = words.filter((w) => qWords.has(w) && w.length > 2).length;
      const score = overlap / Math.max(words.length, 1);
      // Ties go to the name that explains more of the text: "supply chain" over "director".
      if (score > bestScore || (score === bestScore && overlap > bestOverlap)) {
        bestScore = score;
        bestOverlap = overlap;
        best = e;
      }
    }
  }
  return bestScore >= 0.5 ? best : null;
}

function conceptTerms(phrases: string[]): ConceptTerm[] {
  const seen = new Map<string, ConceptTerm>();
  for (const text of phrases) {
    const s = stemPhrase(text);
    if (s && !seen.has(s)) seen.set(s, { stem: s, text: text.toLowerCase() });
  }
  return [...seen.values()];
}

const stemConcept = (c: Concept, weight: number, kind: ProfileConcept["kind"]): ProfileConcept => ({
  label: c.label,
  terms: conceptTerms(c.terms),
  weight,
  kind,
});

// A word of a multi-word interest alone is weak evidence: "rules" of "visa rules" is in every
// other story. It counts a third of the phrase (measured on the ranking corpus).
const LONE_WORD_WEIGHT = 0.35;

/** An interest the reader wrote, as a concept. */
export const interestConcept = (interest: string): ProfileConcept | null => freeText(interest, 2, "interest");

const freeText = (label: string, weight: number, kind: ProfileConcept["kind"]): ProfileConcept | null => {
  const phrase = conceptTerms([label]);
  if (phrase.length === 0) return null;
  const words = conceptTerms(label.split(/[\s,/]+/).filter(Boolean))
    .filter((w) => w.stem !== phrase[0]!.stem)
    .map((w) => ({ ...w, weight: LONE_WORD_WEIGHT }));
  return { label, terms: [...phrase, ...words], weight, kind };
};

/**
 * The profile as weighted concepts. What the reader wrote counts most (followed entities,
 * interests); the taxonomy's expansion of role and industry broadens it at lower weight.
 * Free text that matches no taxonomy entry still counts, as its own words.
 */
export function buildProfileVector(
  p: ProfileInput,
  segmentConcepts: (role: string, industry: string) => ProfileConcept[] = taxonomyConcepts,
  interestOf: (interest: string) => ProfileConcept | null = interestConcept,
): ProfileVector {
  const concepts: ProfileConcept[] = [];
  for (const f of p.followed) {
    const terms = conceptTerms([f.name]);
    if (terms.length) concepts.push({ label: f.name, terms, weight: 3, kind: "followed" });
  }
  // A multi-word interest matches as a phrase and, more weakly, by its words.
  for (const interest of p.interests) {
    const c = interestOf(interest);
    if (c) concepts.push({ ...c });
  }
  // Copies: preference weights below must not change a shared segment's concepts.
  for (const c of segmentConcepts(p.role, p.industry)) concepts.push({ ...c });
  for (const [label, delta] of Object.entries(p.preferenceWeights ?? {})) {
    for (const c of concepts) if (c.label === label) c.weight = Math.max(0, c.weight + delta);
  }
  return { concepts, muted: p.mutedTopics.map((m) => stemPhrase(m).split(" ")).filter((m) => m[0]) };
}

// Taxonomy concepts weigh less than what the reader wrote (interests 2, followed 3).
const INDUSTRY_WEIGHT = 1.2;
const ROLE_WEIGHT = 0.8;
const SPECIALTY_WEIGHT = 3;

const ALL_CONCEPTS: Concept[] = [...new Set([...INDUSTRIES, ...ROLES].flatMap((e) => e.concepts))];

// How many concept labels each label word appears in: "immigration" names one concept, "policy"
// a dozen (health, energy, farm, housing, education ...).
const LABEL_TERMS = new Map(ALL_CONCEPTS.map((c) => [c, terms(c.label)]));
const LABEL_WORD_CONCEPTS = new Map<string, number>();
for (const label of LABEL_TERMS.values()) {
  for (const w of new Set(label)) LABEL_WORD_CONCEPTS.set(w, (LABEL_WORD_CONCEPTS.get(w) ?? 0) + 1);
}

/** Whether `words` name the concept's whole label ("public health" in "Public health official"). */
const namesWhole = (c: Concept, words: Set<string>) => LABEL_TERMS.get(c)!.every((w) => words.has(w));
// A leftover word naming more concepts than this says which field, not which specialty: "Tech
// policy counsel" must not weigh every policy concept of the taxonomy like a followed topic.
const SPECIALTY_MAX_CONCEPTS = 2;

/** Taxonomy concepts named by the words of `text` that its matched entry's names do not contain. */
function leftoverConcepts(text: string, entry: IndustryEntry | RoleEntry | null): Concept[] {
  const named = new Set(entry ? [entry.name, ...entry.aliases].flatMap((n) => terms(n)) : []);
  const words = new Set(terms(text));
  const leftover = [...words].filter((w) => !named.has(w) && w.length > 3);
  if (leftover.length === 0) return [];
  // Without an entry every word is "unexplained": only labels named whole count then.
  const telling = entry
    ? leftover.filter((w) => (LABEL_WORD_CONCEPTS.get(w) ?? 0) <= SPECIALTY_MAX_CONCEPTS)
    : [];
  return ALL_CONCEPTS.filter((c) => {
    const label = LABEL_TERMS.get(c)!;
    // Named whole, with a word the entry left unexplained ("Public health official": public
    // health), or by an unexplained word few concepts share ("immigration").
    const whole = namesWhole(c, words) && label.some((w) => leftover.includes(w));
    return whole || telling.some((w) => label.includes(w));
  });
}

/**
 * The taxonomy entry `text` names, unless it only shares a word with one of the entry's names
 * while naming a concept whole: "Labor union" is about Labor & unions, not the banking entry that
 * lists "credit union".
 */
function entryUnlessNamedConcept<T extends IndustryEntry | RoleEntry>(entries: T[], text: string): T | null {
  const entry = matchEntry(entries, text);
  if (!entry) return null;
  const words = new Set(terms(text));
  const exact = [entry.name, ...entry.aliases].some((n) => terms(n).every((w) => words.has(w)));
  if (exact) return entry;
  const namesConcept = ALL_CONCEPTS.some((c) => LABEL_TERMS.get(c)!.length > 1 && namesWhole(c, words));
  return namesConcept ? null : entry;
}

/**
 * What a role and an industry mean, from the taxonomy (or their own words when the taxonomy has
 * no entry): the same for everyone in that segment, so it can be computed once per segment.
 */
export function taxonomyConcepts(roleText: string, industryText: string): ProfileConcept[] {
  const concepts: ProfileConcept[] = [];
  // A concept named by both the role and the industry (courts for a lawyer in legal services) is
  // one interest of the reader, not two: counted twice, it outweighed what the reader asked for.
  const add = (c: ProfileConcept | null) => {
    if (!c) return;
    const same = concepts.find((x) => x.label === c.label);
    if (!same) {
      concepts.push(c);
      return;
    }
    same.weight = Math.max(same.weight, c.weight);
    for (const t of c.terms) if (!same.terms.some((x) => x.stem === t.stem)) same.terms.push(t);
  };
  const industry = entryUnlessNamedConcept(INDUSTRIES, industryText);
  if (industry) for (const c of industry.concepts) add(stemConcept(c, INDUSTRY_WEIGHT, "industry"));
  else add(freeText(industryText, 1.2, "industry"));
  const role = entryUnlessNamedConcept(ROLES, roleText);
  if (role) for (const c of role.concepts) add(stemConcept(c, ROLE_WEIGHT, "role"));
  else add(freeText(roleText, 0.8, "role"));
  // What the entry did not explain is often the point: "Immigration attorney" matched Legal on
  // "attorney"; "immigration" names the reader's specialty, which weighs like a followed topic
  // (above any one interest: with less, generic court stories outranked immigration ones). A role
  // or industry with no entry at all may still name concepts ("Public health official").
  for (const [text, entry] of [
    [roleText, role],
    [industryText, industry],
  ] as const) {
    for (const c of leftoverConcepts(text, entry)) {
      add(stemConcept(c, SPECIALTY_WEIGHT, "interest"));
    }
  }
  return concepts;
}
