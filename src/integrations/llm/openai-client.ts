import OpenAI from "openai";
import { AppError } from "../../lib/errors.ts";
import type { LlmClient } from "./llm.ts";

export type OpenAiOptions = {
  apiKey: string;
  baseURL?: string;
  model: string;
  timeoutMs?: number;
  maxRetries?: number;
};

/** Any OpenAI-compatible endpoint through the official SDK (which retries 429/5xx honouring retry-after). */
export function createOpenAiClient(opts: OpenAiOptions): LlmClient {
  const client = new OpenAI({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL,
    timeout: opts.timeoutMs ?? 30_000,
    maxRetries: opts.maxRetries ?? 2,
  });
  return {
    model: opts.model,
    async completeJson({ system, user }) {
      const res = await client.chat.completions.create({
        model: opts.model,
        response_format: { type: "json_object" },
        temperature: 0.2,
        messages: [
          { role: "system", content: system },
          { role: "user", content: user },
        ],
      });
      const content = res.choices[0]?.message?.content ?? "";
      let json: unknown;
      try {
        json = JSON.parse(content);
      } catch {
        throw new AppError("UPSTREAM", "the model answered with malformed JSON");
      }
      return { json, tokensIn: res.usage?.prompt_tokens ?? 0, tokensOut: res.usage?.completion_tokens ?? 0 };
    },
  };
}
