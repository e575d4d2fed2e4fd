import { hash } from "node:crypto";
import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import { shareLinks } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { AppError, notFound } from "../../lib/errors.ts";
import { newToken } from "../../lib/tokens.ts";
import { latestSummaries, type StoryView, toStoryView } from "../summaries/index.ts";

export type ShareLink = typeof shareLinks.$inferSelect;

/** An unguessable public link to one story (256 random bits), optionally expiring. */
export async function createShare(
  deps: Pick<Deps, "db" | "clock" | "config">,
  subscriberId: string,
  storyId: string,
  opts: { expiresInDays?: number; reuse?: boolean } = {},
): Promise<{ token: string; url: string; expiresAt: string | null }> {
  const summary = (await latestSummaries(deps, [storyId])).get(storyId);
  if (!summary) throw notFound("story");
  // "Share" from an email, pressed again (or by a second reader of a forwarded email: it is signed
  // for its subscriber), gives the link made before while it lives, not one more each time.
  if (opts.reuse && !opts.expiresInDays) {
    const [live] = await deps.db
      .select({ token: shareLinks.token })
      .from(shareLinks)
      .where(
        and(
          eq(shareLinks.subscriberId, subscriberId),
          eq(shareLinks.storyId, storyId),
          isNull(shareLinks.revokedAt),
          isNull(shareLinks.expiresAt),
        ),
      )
      .orderBy(desc(shareLinks.createdAt))
      .limit(1);
    if (live) return { token: live.token, url: shareUrl(deps, live.token), expiresAt: null };
  }
  const token = newToken();
  const expiresAt = opts.expiresInDays
    ? new Date(deps.clock.now().getTime() + opts.expiresInDays * 86400_000)
    : null;
  await deps.db.insert(shareLinks).values({ token, storyId, subscriberId, expiresAt });
  return { token, url: shareUrl(deps, token), expiresAt: expiresAt?.toISOString() ?? null };
}

/** The public page of a share link. */
export const shareUrl = (deps: Pick<Deps, "config">, token: string) =>
  `${deps.config.publicBaseUrl}/s/${token}`;

/** The shape of the tokens share links carry (URL-safe base64 of random bytes). */
export const isShareToken = (token: string) => /^[\w-]{20,100}$/.test(token);

/** Revokes one of the subscriber's links; another subscriber's link is not found. */
export async function revokeShare(deps: Pick<Deps, "db" | "clock">, subscriberId: string, token: string) {
  // Not a token this service makes (a NUL reached PostgreSQL and answered 400): not found.
  if (!isShareToken(token)) throw notFound("share link");
  const rows = await deps.db
    .update(shareLinks)
    .set({
      revokedAt: sql`coalesce(${shareLinks.revokedAt}, ${deps.clock.now().toISOString()}::timestamptz)`,
    })
    .where(and(eq(shareLinks.token, token), eq(shareLinks.subscriberId, subscriberId)))
    .returning({ id: shareLinks.id });
  // Revoking again (a retry after a lost answer) succeeds; the first revocation's time stays.
  if (rows.length === 0) throw notFound("share link");
}

/** A link as its sharer sees it in their list: where it points, whether it still opens, its views. */
export type ShareListItem = {
  token: string;
  url: string;
  storyId: string;
  headline: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  status: "live" | "revoked" | "expired";
  views: number;
};

/**
 * A page cursor: the last item's creation time to the microsecond (PostgreSQL's precision: a
 * millisecond cursor skipped links made within the same millisecond) and its id (links made in the
 * same instant keep one order), opaque to clients. Undefined for anything this service did not make.
 */
export function readShareCursor(cursor: string): { at: string; id: string } | undefined {
  const m =
    /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(
      Buffer.from(cursor, "base64url").toString(),
    );
  // A real instant: Date takes "2026-02-30T..." (rolling it over), PostgreSQL refuses it (a 500).
  if (!m || !m[1]!.startsWith("2") || new Date(`${m[1]}Z`).toISOString().slice(0, 19) !== m[1])
    return undefined;
  return { at: `${m[1]}.${m[2]}Z`, id: m[3]! };
}
const microsecondsUtc = sql<string>`to_char(${shareLinks.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The subscriber's share links, newest first, revoked and expired ones included (marked so). */
export async function listShares(
  deps: Pick<Deps, "db" | "clock" | "config">,
  subscriberId: string,
  page: { cursor?: string; limit: number },
): Promise<{ items: ShareListItem[]; nextCursor: string | null }> {
  const after = page.cursor === undefined ? undefined : readShareCursor(page.cursor);
  if (page.cursor !== undefined && !after)
    throw new AppError("VALIDATION", "query.cursor must be a cursor from a previous page", [
      { location: "query.cursor", message: "must be a cursor from a previous page" },
    ]);
  const rows = await deps.db
    .select({ link: shareLinks, at: microsecondsUtc })
    .from(shareLinks)
    .where(
      and(
        eq(shareLinks.subscriberId, subscriberId),
        after &&
          or(
            sql`${shareLinks.createdAt} < ${after.at}::timestamptz`,
            and(sql`${shareLinks.createdAt} = ${after.at}::timestamptz`, lt(shareLinks.id, after.id)),
          ),
      ),
    )
    .orderBy(desc(shareLinks.createdAt), desc(shareLinks.id))
    .limit(page.limit + 1);
  const links = rows.slice(0, page.limit).map((r) => r.link);
  // The headline a reader of the link sees now: the story's latest summary.
  const summaries = await latestSummaries(deps, [...new Set(links.map((l) => l.storyId))]);
  const now = deps.clock.now();
  const items = links.map((link) => ({
    token: link.token,
    url: shareUrl(deps, link.token),
    storyId: link.storyId,
    headline: summaries.get(link.storyId)?.headline ?? "",
    createdAt: link.createdAt.toISOString(),
    expiresAt: link.expiresAt?.toISOString() ?? null,
    revokedAt: link.revokedAt?.toISOString() ?? null,
    status: link.revokedAt
      ? ("revoked" as const)
      : link.expiresAt && link.expiresAt <= now
        ? ("expired" as const)
        : ("live" as const),
    views: link.viewCount,
  }));
  const last = rows.length > page.limit ? rows[page.limit - 1]! : undefined;
  return {
    items,
    nextCursor: last ? Buffer.from(`${last.at}_${last.link.id}`).toString("base64url") : null,
  };
}

export type SharedStory =
  | { status: "ok"; story: StoryView }
  | { status: "gone"; reason: "revoked" | "expired" }
  | { status: "unknown" };

/**
 * The story behind a public link, counting the view. Nothing about the sharer is returned: the
 * page shows the story, never who shared it. A token that names no link (or no story) is
 * unknown; revoked and expired ones are gone.
 */
/**
 * Link-preview fetchers and crawlers: they open a link to show a card or index it, which is not
 * a person reading the story.
 */
const NOT_A_READER =
  /bot\b|crawler|spider|preview|facebookexternalhit|facebookcatalog|embedly|whatsapp|telegram|slack|discord|skype|linkedin|pinterest|vkshare|quora link|iframely|headless/i;

/** Whether a request for a shared page is a person's view (counted), not HEAD or a preview bot. */
export const isReaderView = (method: string, userAgent: string | undefined) =>
  method === "GET" && !NOT_A_READER.test(userAgent ?? "");

/** A reader's reload, or their second look within this long, is not another view. */
const VIEW_WINDOW_MS = 30 * 60_000;
/** Bounds the memory a flood of distinct visitors can take (about 150 bytes each). */
const RECENT_VIEWS_MAX = 100_000;

/**
 * Views counted lately, by link and visitor (a hash of the reader's address and browser), in this
 * process's memory only: a view count, not an audit. Two processes may each count a reader once.
 */
export class RecentViews {
  private readonly seen = new Map<string, number>();
  /** Whether this is the visitor's first view of the link within the window; records it. */
  first(linkId: string, visitor: string, now: number): boolean {
    const key = `${linkId}|${visitor}`;
    const at = this.seen.get(key);
    if (at !== undefined && now - at < VIEW_WINDOW_MS) return false;
    // Full: the oldest goes (a Map keeps insertion order), not everyone's at once.
    if (at === undefined && this.seen.size >= RECENT_VIEWS_MAX)
      this.seen.delete(this.seen.keys().next().value!);
    this.seen.delete(key);
    this.seen.set(key, now);
    return true;
  }
}

/** Who is looking, for RecentViews: their address and browser, hashed (neither is kept). */
export const visitorKey = (address: string, userAgent: string | undefined) =>
  hash("sha256", `${address}|${userAgent ?? ""}`, "base64url");

export async function openShare(
  deps: Pick<Deps, "db" | "clock">,
  token: string,
  opts: { countView?: boolean; recent?: RecentViews; visitor?: string } = {},
): Promise<SharedStory> {
  if (!isShareToken(token)) return { status: "unknown" };
  const [link] = await deps.db.select().from(shareLinks).where(eq(shareLinks.token, token));
  if (!link) return { status: "unknown" };
  if (link.revokedAt) return { status: "gone", reason: "revoked" };
  if (link.expiresAt && link.expiresAt <= deps.clock.now()) return { status: "gone", reason: "expired" };
  const summary = (await latestSummaries(deps, [link.storyId])).get(link.storyId);
  if (!summary) return { status: "unknown" };
  // Only views that count are remembered: a HEAD or a preview bot must not hide the reader's GET.
  if (
    opts.countView !== false &&
    (!opts.recent || opts.recent.first(link.id, opts.visitor ?? "", deps.clock.now().getTime()))
  )
    await deps.db
      .update(shareLinks)
      .set({ viewCount: sql`${shareLinks.viewCount} + 1` })
      .where(eq(shareLinks.id, link.id));
  return { status: "ok", story: toStoryView(summary, null) };
}
