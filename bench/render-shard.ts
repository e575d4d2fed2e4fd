/**
 * One process of bench/daily-run-scale.ts's render phase: renders the briefing email of every
 * subscriber in its shard the way a send does (read the batch's briefings, build the email model with
 * the signed links, fill the compiled template) and prints one JSON line. It says "ready" once
 * connected and compiled, and begins on a line from stdin.
 *   tsx bench/render-shard.ts <shard> <shards>   (DATABASE_URL set)
 */
import { sql } from "drizzle-orm";
import { loadConfig } from "../src/config.ts";
import { rowsOf } from "../src/db/client.ts";
import { createDeps } from "../src/deps.ts";
import { SEND_BATCH } from "../src/jobs/daily-run.ts";
import { silentLogger } from "../src/lib/logger.ts";
import { briefingKey, briefingViews } from "../src/modules/briefings/index.ts";
import { briefingEmailModel, emailLinks, renderBriefingEmail } from "../src/modules/delivery/index.ts";

async function main() {
  const shard = Number(process.argv[2] ?? 0);
  const shards = Number(process.argv[3] ?? 1);
  const config = loadConfig({ ...process.env, LOG_LEVEL: "silent" });
  const deps = await createDeps(config, { logger: silentLogger });
  const rows = rowsOf<{
    id: string;
    date: string;
    email: string;
    name: string | null;
    timezone: string;
    delivery_time: string;
  }>(
    await deps.db.execute(sql`select s.id, b.date::text as date, s.email, s.name, s.timezone, s.delivery_time
      from briefings b join subscribers s on s.id = b.subscriber_id
      where mod(abs(hashtext(s.id::text)), ${shards}) = ${shard}`),
  );
  const template = await deps.templates.get("briefing");
  // Started, connected and compiled, as a running worker is: the bench starts the clock when every
  // shard has said so, and sends the word to begin (process start-up is not part of a morning).
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
  process.stdin.pause();
  let renderMs = 0;
  let next = 0;
  // As the sender does: briefings read a batch at a time (SEND_BATCH jobs per fetch), as many
  // batches in flight as the pool has connections (more only queues inside postgres-js).
  await Promise.all(
    Array.from({ length: config.DATABASE_POOL_SIZE }, async () => {
      while (next < rows.length) {
        const batch = rows.slice(next, next + SEND_BATCH);
        next += SEND_BATCH;
        const views = await briefingViews(
          deps,
          batch.map((r) => ({ subscriberId: r.id, date: r.date })),
        );
        const t = performance.now();
        for (const r of batch) {
          renderBriefingEmail(
            template,
            briefingEmailModel(
              views.get(briefingKey(r.id, r.date))!,
              { email: r.email, name: r.name, timezone: r.timezone, deliveryTime: r.delivery_time },
              emailLinks(deps.config, r.id),
            ),
          );
        }
        renderMs += performance.now() - t;
      }
    }),
  );
  await deps.close();
  process.stdout.write(
    JSON.stringify({
      rendered: rows.length,
      msPerEmail: +(renderMs / Math.max(1, rows.length)).toFixed(3),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
