import { asc, eq, inArray, isNull, lte, or, sql } from "drizzle-orm";
import { sources } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import { bareHostName, isPrivateHostLiteral, mayReachPrivately } from "../../lib/addresses.ts";
import { AppError, isUniqueViolation, notFound, validationError } from "../../lib/errors.ts";
import { normalizeFeedUrl, type SourceInput, sourceInputSchema } from "./sources.schemas.ts";

export type Source = typeof sources.$inferSelect;

/**
 * Registers a feed. The input is checked and its URL normalized here, whichever way it came in
 * (API, CLI, sample seeding), so that every source is stored in the same form and the same feed
 * spelled another way is a CONFLICT.
 */
export async function addSource(deps: Pick<Deps, "db" | "config">, raw: SourceInput): Promise<Source> {
  const input = parseSourceInput(raw);
  const url = input.url;
  refusePrivateLiteral(deps.config, url);
  const name =
    input.name ?? input.outlet ?? (url.startsWith("sample:") ? url.slice(7) : new URL(url).hostname);
  try {
    const [row] = await deps.db
      .insert(sources)
      .values({
        url,
        name,
        outlet: input.outlet ?? null,
        language: input.language ?? null,
        fetchIntervalMinutes: input.fetchIntervalMinutes ?? 30,
      })
      .returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError("CONFLICT", `a source with URL ${url} already exists`);
    throw err;
  }
}

export function listSources(deps: Pick<Deps, "db">): Promise<Source[]> {
  return deps.db.select().from(sources).orderBy(asc(sources.createdAt));
}

export async function removeSource(deps: Pick<Deps, "db">, idOrUrl: string): Promise<void> {
  const isUuid = /^[0-9a-f-]{36}$/i.test(idOrUrl);
  const deleted = await deps.db
    .delete(sources)
    // By the URL as given or as it is stored (rows added before URLs were normalized keep theirs).
    .where(isUuid ? eq(sources.id, idOrUrl) : inArray(sources.url, [idOrUrl, normalizeFeedUrl(idOrUrl)]))
    .returning({ id: sources.id });
  if (deleted.length === 0) throw notFound(`source ${idOrUrl}`);
}

/** Enabled sources whose next fetch time has come (or that were never fetched). */
export function dueSources(deps: Pick<Deps, "db" | "clock">): Promise<Source[]> {
  return deps.db
    .select()
    .from(sources)
    .where(
      sql`${sources.enabled} and ${or(isNull(sources.nextFetchAt), lte(sources.nextFetchAt, deps.clock.now()))}`,
    )
    .orderBy(asc(sources.nextFetchAt));
}

export async function recordFetchSuccess(
  deps: Pick<Deps, "db" | "clock">,
  source: Source,
  validators: { etag: string | null; lastModified: string | null },
): Promise<void> {
  const now = deps.clock.now();
  await deps.db
    .update(sources)
    .set({
      etag: validators.etag,
      lastModified: validators.lastModified,
      lastFetchedAt: now,
      lastSuccessAt: now,
      consecutiveFailures: 0,
      lastError: null,
      nextFetchAt: new Date(now.getTime() + source.fetchIntervalMinutes * 60_000),
    })
    .where(eq(sources.id, source.id));
}

/** Failing sources back off exponentially (up to a day) so they cost little while broken. */
export async function recordFetchFailure(
  deps: Pick<Deps, "db" | "clock">,
  source: Source,
  message: string,
): Promise<void> {
  const now = deps.clock.now();
  const failures = source.consecutiveFailures + 1;
  const backoffMinutes = Math.min(24 * 60, source.fetchIntervalMinutes * 2 ** Math.min(failures, 10));
  await deps.db
    .update(sources)
    .set({
      lastFetchedAt: now,
      consecutiveFailures: failures,
      lastError: message.slice(0, 500),
      nextFetchAt: new Date(now.getTime() + backoffMinutes * 60_000),
    })
    .where(eq(sources.id, source.id));
}

export function toSourceView(s: Source) {
  return {
    id: s.id,
    url: s.url,
    name: s.name,
    outlet: s.outlet,
    language: s.language,
    enabled: s.enabled,
    fetchIntervalMinutes: s.fetchIntervalMinutes,
    health: {
      lastFetchedAt: s.lastFetchedAt?.toISOString() ?? null,
      lastSuccessAt: s.lastSuccessAt?.toISOString() ?? null,
      consecutiveFailures: s.consecutiveFailures,
      lastError: s.lastError,
      nextFetchAt: s.nextFetchAt?.toISOString() ?? null,
    },
    createdAt: s.createdAt.toISOString(),
  };
}

/**
 * A feed on an IP literal or localhost that the fetcher would refuse anyway is refused when it is
 * added, with the reason (hostnames are judged at fetch time, after DNS, on every redirect).
 */
function refusePrivateLiteral(
  config: Pick<Deps["config"], "FETCH_ALLOW_PRIVATE" | "FETCH_ALLOW_HOSTS">,
  url: string,
) {
  if (url.startsWith("sample:")) return;
  const host = bareHostName(new URL(url).hostname);
  const access = { allowPrivate: config.FETCH_ALLOW_PRIVATE, allowHosts: config.FETCH_ALLOW_HOSTS };
  if (!isPrivateHostLiteral(host) || mayReachPrivately(host, access)) return;
  const message = `refused: ${host} is a loopback, private or link-local address (set FETCH_ALLOW_PRIVATE or FETCH_ALLOW_HOSTS to fetch your own servers)`;
  throw new AppError("VALIDATION", message, [{ location: "body.url", message }]);
}

/**
 * The route has validated already (and this gives the same answer again: normalizing is
 * idempotent); the CLI and the sample seeding come here unvalidated. Failures name the field as
 * the route does.
 */
function parseSourceInput(raw: SourceInput) {
  const parsed = sourceInputSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw validationError(parsed.error.issues, "body", "invalid source");
}
