import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import type { Config } from "./config.ts";
import { type Db, type DbHandle, openDb } from "./db/client.ts";
import { createHttpFetcher, type Fetcher } from "./integrations/http/fetcher.ts";
import { createSampleFetcher } from "./integrations/http/sample-fetcher.ts";
import type { LlmClient } from "./integrations/llm/llm.ts";
import { createOpenAiClient } from "./integrations/llm/openai-client.ts";
import {
  createOutboxMailer,
  createSmtpMailer,
  loadDkimKey,
  type Mailer,
} from "./integrations/mail/mailer.ts";
import { type Clock, systemClock } from "./lib/clock.ts";
import type { Logger } from "./lib/logger.ts";
import { createTemplateStore, type TemplateStore } from "./lib/mjml-templates.ts";
import { newToken } from "./lib/tokens.ts";
import { SummaryCache } from "./modules/summaries/index.ts";

export type Deps = {
  db: Db;
  clock: Clock;
  llm: LlmClient | null;
  mailer: Mailer;
  fetcher: Fetcher;
  logger: Logger;
  templates: TemplateStore;
  /** Story summaries read in this process (immutable rows, shared by every briefing that cites them). */
  summaryCache: SummaryCache;
  config: Config & { linkSecret: string };
};

export const sampleFeedsDir = fileURLToPath(new URL("../samples/feeds", import.meta.url));
export const templatesDir = fileURLToPath(new URL("../templates", import.meta.url));

/** Link signatures must survive restarts: without LINK_SECRET, one is made once per data dir. */
function linkSecret(config: Config): string {
  if (config.LINK_SECRET) return config.LINK_SECRET;
  const file = join(config.DATA_DIR, "link-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(config.DATA_DIR, { recursive: true });
  const secret = newToken();
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export type DepsOverrides = Partial<Omit<Deps, "config">> & { dbHandle?: DbHandle; inMemoryDb?: boolean };

/** Builds every concrete adapter once per process. Overrides let tests pass fakes in. */
export async function createDeps(
  config: Config,
  overrides: DepsOverrides = {},
): Promise<Deps & { close(): Promise<void>; dbHandle: DbHandle }> {
  const logger =
    overrides.logger ??
    (pino(
      { level: config.LOG_LEVEL, base: { service: "daybreak" } },
      pino.destination(2),
    ) as unknown as Logger);
  const clock = overrides.clock ?? systemClock;
  const dbHandle =
    overrides.dbHandle ??
    (await openDb({
      url: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      poolSize: config.DATABASE_POOL_SIZE,
      inMemory: overrides.inMemoryDb,
    }));
  const from = config.MAIL_FROM;
  const messageIdDomain = new URL(config.publicBaseUrl).hostname || "daybreak.localhost";
  const dkim =
    config.DKIM_DOMAIN && config.DKIM_SELECTOR && config.DKIM_PRIVATE_KEY
      ? {
          domainName: config.DKIM_DOMAIN,
          keySelector: config.DKIM_SELECTOR,
          privateKey: loadDkimKey(config.DKIM_PRIVATE_KEY),
        }
      : undefined;
  const mailer =
    overrides.mailer ??
    (config.SMTP_URL
      ? createSmtpMailer(config.SMTP_URL, {
          from,
          messageIdDomain,
          dkim,
          ratePerSecond: config.SMTP_RATE_PER_SECOND,
        })
      : createOutboxMailer(join(config.DATA_DIR, "outbox"), { from, messageIdDomain, dkim }));
  const fetcher =
    overrides.fetcher ??
    createSampleFetcher(
      sampleFeedsDir,
      clock,
      createHttpFetcher({
        userAgent: "DaybreakBot/0.1 (+https://github.com/daybreak; news briefing feed reader)",
        allowPrivate: config.FETCH_ALLOW_PRIVATE,
        allowHosts: config.FETCH_ALLOW_HOSTS,
        hostDelayMs: config.FETCH_HOST_DELAY_MS,
      }),
    );
  const llm =
    overrides.llm !== undefined
      ? overrides.llm
      : config.OPENAI_API_KEY
        ? createOpenAiClient({
            apiKey: config.OPENAI_API_KEY,
            baseURL: config.OPENAI_BASE_URL,
            model: config.OPENAI_MODEL,
            embeddingModel: config.OPENAI_EMBEDDING_MODEL,
            timeoutMs: config.LLM_TIMEOUT_MS,
            dailyTokenBudget: config.LLM_DAILY_TOKEN_BUDGET,
          })
        : null;
  return {
    db: dbHandle.db,
    dbHandle,
    clock,
    llm,
    mailer,
    fetcher,
    logger,
    templates: overrides.templates ?? createTemplateStore(templatesDir),
    summaryCache: overrides.summaryCache ?? new SummaryCache(),
    config: { ...config, linkSecret: linkSecret(config) },
    async close() {
      await mailer.close();
      await dbHandle.close();
    },
  };
}
