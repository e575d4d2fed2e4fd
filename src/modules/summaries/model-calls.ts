import { and, desc, eq, gte, isNotNull, sql } from "drizzle-orm";
import { llmCalls, subscribers } from "../../db/schema/index.ts";
import type { Deps } from "../../deps.ts";
import type { LlmClient } from "../../integrations/llm/llm.ts";
import { describeError } from "../../lib/errors.ts";

export type ModelCall = {
  purpose: "summary" | "why_it_matters" | "question";
  system: string;
  user: string;
  storyId?: string;
  subscriberId?: string;
  maxTokens?: number;
  /** The whole call's time limit, retries included: for answers a reader waits for. */
  deadlineMs?: number;
};

export type ModelAnswer =
  | { status: "ok"; json: unknown; callId: string }
  | { status: "malformed"; callId: string }
  | { status: "unavailable"; reason: "no_model" | "circuit_open" | "budget_exhausted" }
  | { status: "failed"; error: string };

function startOfUtcDay(t: Date): Date {
  return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
}

/** Tokens in and out spent on model calls since midnight UTC. */
export async function tokensSpentToday(deps: Pick<Deps, "db" | "clock">): Promise<number> {
  const [row] = await deps.db
    .select({ total: sql<string>`coalesce(sum(${llmCalls.tokensIn} + ${llmCalls.tokensOut}), 0)` })
    .from(llmCalls)
    .where(gte(llmCalls.createdAt, startOfUtcDay(deps.clock.now())));
  return Number(row?.total ?? 0);
}

/**
 * One model call behind the daily token budget, recorded in llm_calls with its tokens whatever
 * happens. Failures are values: every caller has an offline path and takes it.
 */
export async function callModel(
  deps: Pick<Deps, "db" | "clock" | "llm" | "logger">,
  call: ModelCall,
): Promise<ModelAnswer> {
  const llm: LlmClient | null = deps.llm;
  if (!llm) return { status: "unavailable", reason: "no_model" };
  if (llm.available && !llm.available()) return { status: "unavailable", reason: "circuit_open" };
  if (llm.dailyTokenBudget !== undefined && (await tokensSpentToday(deps)) >= llm.dailyTokenBudget)
    return { status: "unavailable", reason: "budget_exhausted" };
  const base = {
    purpose: call.purpose,
    model: llm.model,
    storyId: call.storyId ?? null,
    subscriberId: call.subscriberId ?? null,
    createdAt: deps.clock.now(),
  };
  try {
    const r = await llm.completeJson({
      purpose: call.purpose,
      system: call.system,
      user: call.user,
      maxTokens: call.maxTokens,
      deadlineMs: call.deadlineMs,
    });
    const malformed = r.json === undefined;
    const [row] = await deps.db
      .insert(llmCalls)
      .values({
        ...base,
        tokensIn: r.tokensIn,
        tokensOut: r.tokensOut,
        outcome: malformed ? "rejected" : "ok",
        error: malformed ? `malformed_json: ${r.content.slice(0, 200)}` : null,
      })
      .returning({ id: llmCalls.id });
    return malformed
      ? { status: "malformed", callId: row!.id }
      : { status: "ok", json: r.json, callId: row!.id };
  } catch (err) {
    const error = describeError(err);
    await deps.db.insert(llmCalls).values({ ...base, outcome: "error", error });
    deps.logger.warn({ purpose: call.purpose, storyId: call.storyId, err: error }, "model call failed");
    return { status: "failed", error };
  }
}

/** Marks a call whose answer verification refused, with the reasons. */
export async function rejectCall(deps: Pick<Deps, "db">, callId: string, detail: string): Promise<void> {
  await deps.db
    .update(llmCalls)
    .set({ outcome: "rejected", error: detail.slice(0, 2000) })
    .where(sql`${llmCalls.id} = ${callId}`);
}

export type UsageRow = {
  day: string;
  purpose: string;
  calls: number;
  tokensIn: number;
  tokensOut: number;
  failed: number;
};
export type SubscriberUsageRow = {
  subscriberId: string;
  email: string | null;
  calls: number;
  tokensIn: number;
  tokensOut: number;
};

/** Model calls and tokens per UTC day and purpose, and per subscriber (calls made on their behalf). */
export async function llmUsage(deps: Pick<Deps, "db">, since: Date) {
  const day = sql<string>`to_char(${llmCalls.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const perDay = await deps.db
    .select({
      day,
      purpose: llmCalls.purpose,
      calls: sql<number>`count(*)::int`,
      tokensIn: sql<number>`coalesce(sum(${llmCalls.tokensIn}), 0)::int`,
      tokensOut: sql<number>`coalesce(sum(${llmCalls.tokensOut}), 0)::int`,
      failed: sql<number>`(count(*) filter (where ${llmCalls.outcome} <> 'ok'))::int`,
    })
    .from(llmCalls)
    .where(gte(llmCalls.createdAt, since))
    .groupBy(day, llmCalls.purpose)
    .orderBy(desc(day), llmCalls.purpose);
  const perSubscriber = await deps.db
    .select({
      subscriberId: sql<string>`${llmCalls.subscriberId}`,
      email: sql<string | null>`min(${subscribers.email})`,
      calls: sql<number>`count(*)::int`,
      tokensIn: sql<number>`coalesce(sum(${llmCalls.tokensIn}), 0)::int`,
      tokensOut: sql<number>`coalesce(sum(${llmCalls.tokensOut}), 0)::int`,
    })
    .from(llmCalls)
    .leftJoin(subscribers, eq(subscribers.id, llmCalls.subscriberId))
    .where(and(gte(llmCalls.createdAt, since), isNotNull(llmCalls.subscriberId)))
    .groupBy(llmCalls.subscriberId)
    .orderBy(desc(sql`count(*)`));
  return { perDay: perDay as UsageRow[], perSubscriber: perSubscriber as SubscriberUsageRow[] };
}

/**
 * `daybreak stats` as lines: calls, failures and tokens per UTC day and purpose with a day total,
 * then per subscriber (calls made for one reader, such as questions). Segment-level calls (summaries,
 * why it matters) are shared, so a day's total over active subscribers is shown as the average.
 */
export function formatLlmUsage(
  usage: Awaited<ReturnType<typeof llmUsage>>,
  opts: { since: Date; activeSubscribers: number; budget?: number; model?: string },
): string[] {
  const pad = (v: string | number, n: number) => String(v).padStart(n);
  const lines = [
    `Model calls since ${opts.since.toISOString().slice(0, 10)} (UTC days)${opts.model ? `, model ${opts.model}` : ", no model configured"}${opts.budget !== undefined ? `, daily budget ${opts.budget} tokens` : ""}`,
  ];
  if (usage.perDay.length === 0) {
    lines.push("no model calls");
    return lines;
  }
  lines.push(
    `day         purpose          ${pad("calls", 6)} ${pad("failed", 6)} ${pad("tokens in", 10)} ${pad("tokens out", 10)}`,
  );
  const days = [...new Set(usage.perDay.map((r) => r.day))];
  for (const day of days) {
    const rows = usage.perDay.filter((r) => r.day === day);
    for (const r of rows)
      lines.push(
        `${day}  ${r.purpose.padEnd(16)} ${pad(r.calls, 6)} ${pad(r.failed, 6)} ${pad(r.tokensIn, 10)} ${pad(r.tokensOut, 10)}`,
      );
    const t = rows.reduce(
      (a, r) => ({
        calls: a.calls + r.calls,
        failed: a.failed + r.failed,
        i: a.i + r.tokensIn,
        o: a.o + r.tokensOut,
      }),
      { calls: 0, failed: 0, i: 0, o: 0 },
    );
    const perSub = opts.activeSubscribers
      ? ` (${Math.round((t.i + t.o) / opts.activeSubscribers)} tokens per active subscriber)`
      : "";
    lines.push(
      `${day}  ${"total".padEnd(16)} ${pad(t.calls, 6)} ${pad(t.failed, 6)} ${pad(t.i, 10)} ${pad(t.o, 10)}${perSub}`,
    );
  }
  lines.push("", "per subscriber (calls made for one reader: questions)");
  if (usage.perSubscriber.length === 0) lines.push("  none");
  for (const r of usage.perSubscriber)
    lines.push(
      `  ${(r.email ?? r.subscriberId).padEnd(36)} ${pad(r.calls, 6)} calls ${pad(r.tokensIn, 10)} in ${pad(r.tokensOut, 10)} out`,
    );
  return lines;
}
