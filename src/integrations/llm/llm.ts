/**
 * The model behind summaries, "why it matters" and questions, when one is configured. Every
 * caller has an offline path, so `Deps.llm` may be null.
 */
export interface LlmClient {
  readonly model: string;
  readonly embeddingModel: string;
  /** Tokens (in + out) callers may spend per UTC day; they sum llm_calls and fall back past it. */
  readonly dailyTokenBudget?: number;
  /** One vector per text, in order. */
  embed(texts: string[]): Promise<{ vectors: number[][]; tokens: number }>;
  /**
   * One JSON answer. `json` is undefined when the model's text is not JSON: the tokens were
   * still spent, and the caller decides whether to ask again. Transport failures throw.
   */
  completeJson(input: {
    purpose: string;
    system: string;
    user: string;
    maxTokens?: number;
    /** The whole call's time limit, retries and their waits included (a reader is waiting). */
    deadlineMs?: number;
  }): Promise<{ json: unknown; content: string; tokensIn: number; tokensOut: number }>;
  /** False while the circuit breaker is open: callers go straight to their offline path. */
  available?(): boolean;
}
