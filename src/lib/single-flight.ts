/**
 * Asks for one key while a load of it is running share that load instead of starting their own:
 * when many readers' first reads arrive at once, reads queued behind the loads repeated them
 * (bench:api's rush). Nothing is kept once a load settles: caching is the caller's.
 */
export class SingleFlight<K, V> {
  private readonly running = new Map<K, Promise<V>>();

  run(key: K, load: () => Promise<V>): Promise<V> {
    const running = this.running.get(key);
    if (running) return running;
    const started = (async () => load())().finally(() => {
      // Only this load's own entry: a later one may hold the key after forgetAll.
      if (this.running.get(key) === started) this.running.delete(key);
    });
    this.running.set(key, started);
    return started;
  }

  /** Asks from now on start their own load (what the running ones read may be out of date). */
  forgetAll(): void {
    this.running.clear();
  }
}
