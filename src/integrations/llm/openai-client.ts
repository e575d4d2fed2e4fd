import OpenAI from "openai";
import { AppError } from "../../lib/errors.ts";
import type { LlmClient } from "./llm.ts";

export type OpenAiOptions = {
  apiKey: string;
  baseURL?: string;
  model: string;
  embeddingModel?: string;
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
  const embeddingModel = opts.embeddingModel ?? "text-embedding-3-small";
  return {
    model: opts.model,
    embeddingModel,
    async embed(texts) {
      const res = await client.embeddings.create({
        model: embeddingModel,
        input: texts,
        encoding_format: "float",
      });
      const vectors = [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      if (vectors.length !== texts.length) {
        throw new AppError(
          "UPSTREAM",
          `the embedding endpoint returned ${vectors.length} vectors for ${texts.length} texts`,
        );
      }
      return { vectors, tokens: res.usage?.total_tokens ?? 0 };
    },
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
