/**
 * After `threshold` consecutive failures the circuit opens: calls fail at once, without touching
 * the network, until `cooldownMs` has passed. Then one trial call is let through; its success
 * closes the circuit, its failure opens it for another cool-down.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  constructor(private readonly opts: { threshold: number; cooldownMs: number; now?: () => number }) {}

  private now() {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  /** Whether a call may go out now. */
  allows(): boolean {
    return this.now() >= this.openUntil;
  }

  succeeded(): void {
    this.failures = 0;
    this.openUntil = 0;
  }

  failed(): void {
    this.failures++;
    if (this.failures >= this.opts.threshold) this.openUntil = this.now() + this.opts.cooldownMs;
  }

  get state(): "closed" | "open" {
    return this.allows() ? "closed" : "open";
  }
}
