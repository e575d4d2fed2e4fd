/**
 * The model behind summaries and "why it matters", when one is configured. Every caller has an
 * offline path, so `Deps.llm` may be null.
 */
export interface LlmClient {
  readonly model: string;
  readonly embeddingModel: string;
  /** One vector per text, in order. */
  embed(texts: string[]): Promise<{ vectors: number[][]; tokens: number }>;
  completeJson(input: {
    purpose: string;
    system: string;
    user: string;
  }): Promise<{ json: unknown; tokensIn: number; tokensOut: number }>;
}
