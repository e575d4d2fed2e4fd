import { existsSync, readdirSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Deps } from "../deps.ts";
import {
  authenticate,
  createSubscriber,
  findSubscriberByEmail,
  issueToken,
  type Subscriber,
} from "../modules/profiles/index.ts";
import { addSource, listSources } from "../modules/sources/index.ts";

export const DEMO_EMAIL = "demo@daybreak.localhost";

/** The demo reader: a strategy analyst at a technology company. */
export const DEMO_PROFILE = {
  email: DEMO_EMAIL,
  name: "Alex",
  role: "Strategy analyst",
  industry: "Semiconductors",
  interests: ["artificial intelligence", "export controls", "cloud computing", "EU regulation"],
  timezone: "Europe/London",
  deliveryTime: "07:00",
  briefingLength: 5,
};

/** Registers the bundled sample feeds (`sample:<file>`) when no source exists yet. */
export async function seedSampleSources(
  deps: Pick<Deps, "db" | "config">,
  feedsDir: string,
): Promise<number> {
  if ((await listSources(deps)).length > 0 || !existsSync(feedsDir)) return 0;
  const files = readdirSync(feedsDir).filter((f) => /\.(rss|atom|xml|json)$/.test(f));
  for (const file of files) {
    const head = (await readFile(join(feedsDir, file), "utf8")).slice(0, 2000);
    const title = head
      .match(/<title[^>]*>([^<]+)<\/title>/)?.[1]
      ?.replace(/&amp;/g, "&")
      .trim();
    await addSource(deps, { url: `sample:${file}`, name: title ?? file, outlet: title ?? undefined });
  }
  return files.length;
}

/**
 * The demo subscriber, created once. Its token is kept in DATA_DIR/demo-token so that a
 * developer can read the API after `npm start`; a missing file means a fresh token is issued.
 */
export async function ensureDemoSubscriber(
  deps: Pick<Deps, "db" | "config">,
): Promise<{ subscriber: Subscriber; token: string; tokenFile: string }> {
  const tokenFile = join(deps.config.DATA_DIR, "demo-token");
  const existing = await findSubscriberByEmail(deps, DEMO_EMAIL);
  let subscriber: Subscriber;
  let token: string;
  if (existing) {
    subscriber = existing;
    const saved = existsSync(tokenFile) ? (await readFile(tokenFile, "utf8")).trim() : "";
    const valid = saved
      ? await authenticate(deps, saved).then(
          (s) => s.id === existing.id,
          () => false,
        )
      : false;
    token = valid ? saved : await issueToken(deps, existing.id, "demo");
  } else {
    ({ subscriber, token } = await createSubscriber(deps, DEMO_PROFILE));
  }
  await mkdir(deps.config.DATA_DIR, { recursive: true });
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  return { subscriber, token, tokenFile };
}
