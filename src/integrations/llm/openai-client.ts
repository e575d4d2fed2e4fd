import OpenAI from "openai";
import { AppError, describeError } from "../../lib/errors.ts";
import { CircuitBreaker } from "./circuit-breaker.ts";
import type { LlmClient } from "./llm.ts";

export type OpenAiOptions = {
  apiKey: string;
  baseURL?: string;
  model: string;
  embeddingModel?: string;
  /** One attempt's time limit. */
  timeoutMs?: number;
  /** Attempts after the first, on 429, 5xx and dropped connections (not after a timeout). */
  maxRetries?: number;
  /** A Retry-After longer than this is not waited for: the call fails and the caller falls back. */
  maxRetryWaitMs?: number;
  /** Consecutive failures that open the circuit, and how long it stays open. */
  breakerThreshold?: number;
  breakerCooldownMs?: number;
  dailyTokenBudget?: number;
  now?: () => number;
};

/** Tokens of a text when the endpoint does not say: about four characters each. */
const estimateTokens = (text: string) => Math.ceil(text.length / 4);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long the server asked us to wait (retry-after-ms, or retry-after in seconds or as a date). */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | null {
  const ms = headers?.get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers?.get("retry-after");
  if (!ra) return null;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000;
  const at = Date.parse(ra);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function retryable(err: unknown): boolean {
  // A model that hung once is not given another full timeout: the caller falls back sooner.
  if (err instanceof OpenAI.APIConnectionTimeoutError) return false;
  if (err instanceof OpenAI.APIConnectionError) return true;
  if (err instanceof OpenAI.APIError) return err.status === 429 || (err.status ?? 0) >= 500;
  return false;
}

function upstream(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new AppError("UPSTREAM", "the model timed out");
  if (err instanceof OpenAI.APIError && err.status === 429)
    return new AppError("RATE_LIMITED", "the model is rate limited");
  if (err instanceof OpenAI.APIError && err.status)
    return new AppError("UPSTREAM", `the model answered ${err.status}`);
  return new AppError("UPSTREAM", `the model call failed: ${describeError(err)}`);
}

/**
 * Any OpenAI-compatible endpoint through the official SDK. Retries are ours, not the SDK's: the
 * SDK would wait for whatever Retry-After says (an hour, if asked). Here every attempt has a
 * timeout, attempts are bounded, waits are bounded, and a circuit breaker stops calling a model
 * that keeps failing, so callers reach their offline path quickly.
 */
export function createOpenAiClient(opts: OpenAiOptions): LlmClient {
  const timeout = opts.timeoutMs ?? 30_000;
  const client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, timeout, maxRetries: 0 });
  const maxRetries = opts.maxRetries ?? 2;
  const maxRetryWaitMs = opts.maxRetryWaitMs ?? 10_000;
  const breaker = new CircuitBreaker({
    threshold: opts.breakerThreshold ?? 5,
    cooldownMs: opts.breakerCooldownMs ?? 5 * 60_000,
    now: opts.now,
  });
  const embeddingModel = opts.embeddingModel ?? "text-embedding-3-small";

  /**
   * `call` with bounded retries; each attempt gets the timeout, or what is left of `deadlineMs`
   * for the whole call, and no wait is begun that would end past it.
   */
  async function withRetries<T>(call: (timeoutMs: number) => Promise<T>, deadlineMs = Infinity): Promise<T> {
    const ends = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(Math.max(1, Math.min(timeout, ends - Date.now())));
      } catch (err) {
        if (!retryable(err) || attempt >= maxRetries) throw upstream(err);
        const asked = err instanceof OpenAI.APIError ? retryAfterMs(err.headers) : null;
        if (asked !== null && asked > maxRetryWaitMs) throw upstream(err);
        // Exponential backoff with jitter when the server did not say how long.
        const wait = asked ?? Math.min(250 * 2 ** attempt, 4000) * (0.5 + Math.random() / 2);
        if (Date.now() + wait >= ends) throw upstream(err);
        await sleep(wait);
      }
    }
  }

  return {
    model: opts.model,
    embeddingModel,
    dailyTokenBudget: opts.dailyTokenBudget,
    available: () => breaker.allows(),
    async embed(texts) {
      const res = await withRetries((timeoutMs) =>
        client.embeddings.create(
          { model: embeddingModel, input: texts, encoding_format: "float" },
          { timeout: timeoutMs },
        ),
      );
      const vectors = [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      if (vectors.length !== texts.length) {
        throw new AppError(
          "UPSTREAM",
          `the embedding endpoint returned ${vectors.length} vectors for ${texts.length} texts`,
        );
      }
      return { vectors, tokens: res.usage?.total_tokens ?? texts.reduce((n, t) => n + estimateTokens(t), 0) };
    },
    async completeJson({ system, user, maxTokens, deadlineMs }) {
      if (!breaker.allows())
        throw new AppError("UPSTREAM", "the model's circuit is open after repeated failures");
      let res: OpenAI.Chat.Completions.ChatCompletion;
      try {
        res = await withRetries(
          (timeoutMs) =>
            client.chat.completions.create(
              {
                model: opts.model,
                response_format: { type: "json_object" },
                temperature: 0.2,
                max_tokens: maxTokens,
                messages: [
                  { role: "system", content: system },
                  { role: "user", content: user },
                ],
              },
              { timeout: timeoutMs },
            ),
          deadlineMs,
        );
      } catch (err) {
        breaker.failed();
        throw err;
      }
      breaker.succeeded();
      const content = res.choices[0]?.message?.content ?? "";
      let json: unknown;
      try {
        // Some models wrap the object in a Markdown fence despite response_format.
        json = JSON.parse(content.replace(/^\s*```(?:json)?\s*\n?([\s\S]*?)\n?\s*```\s*$/i, "$1"));
      } catch {
        json = undefined;
      }
      return {
        json,
        content,
        // An endpoint that reports no usage still spent tokens: estimated (about 4 characters
        // a token), or the daily budget would never count its calls.
        tokensIn: res.usage?.prompt_tokens ?? estimateTokens(system) + estimateTokens(user),
        tokensOut: res.usage?.completion_tokens ?? estimateTokens(content),
      };
    },
  };
}
