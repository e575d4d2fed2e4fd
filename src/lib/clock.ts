/** Time comes from a clock so schedules and time zones can be tested at any instant. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still until moved: for tests and replays. */
export function fixedClock(
  start: Date | string,
): Clock & { set(t: Date | string): void; advance(ms: number): void } {
  let t = new Date(start);
  return {
    now: () => new Date(t),
    set: (next) => {
      t = new Date(next);
    },
    advance: (ms) => {
      t = new Date(t.getTime() + ms);
    },
  };
}
