import { createHash } from "node:crypto";
import { cpus } from "node:os";

/**
 * How fast this machine runs ordinary server work right now: a fixed piece of it (objects built,
 * JSON written and read, a sort, SHA-256 of short texts), timed, median of three. This VM's speed
 * drifts between phases by two to three times (the same seed of bench:daily took 8 s in one and
 * 24 s in another, on the same code), so each result carries the figure measured with it: runs
 * are comparable by their time over calibrationMs, not by their time alone.
 */
export function cpuCalibrationMs(): number {
  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const rows = Array.from({ length: 50_000 }, (_, i) => ({
      id: i,
      text: `story ${i} about ${(i * 7919) % 1000} markets`,
      score: Math.sin(i),
    }));
    const back = JSON.parse(JSON.stringify(rows)) as typeof rows;
    back.sort((a, b) => a.score - b.score);
    let digest = "";
    for (let i = 0; i < 20_000; i++) digest = createHash("sha256").update(back[i]!.text).digest("hex");
    if (digest.length !== 64) throw new Error("unreachable");
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[1]!);
}

/** What a result says about the machine it was measured on. */
export function machineInfo() {
  return { cpus: cpus().length, node: process.version, calibrationMs: cpuCalibrationMs() };
}
