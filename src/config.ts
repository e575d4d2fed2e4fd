import { z } from "zod";
import { blankToUndefined } from "./lib/field-schemas.ts";

/** The only place that reads the environment. Every setting, its default, and what is wrong with it. */
const booleanish = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const optionalUrl = (protocols: string[]) =>
  z.preprocess(
    blankToUndefined,
    z
      .url({ message: "must be an absolute URL" })
      // Refinements run after a failed check too: a value that is no URL at all must not throw here.
      .refine((v) => URL.canParse(v) && protocols.includes(new URL(v).protocol), {
        message: `must use ${protocols.join(" or ")}`,
      })
      .optional(),
  );

export const configSchema = z.object({
  PORT: z.coerce
    .number({ message: "must be a number" })
    .int("must be a whole number")
    .min(1, "must be between 1 and 65535")
    .max(65535, "must be between 1 and 65535")
    .default(3000),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: optionalUrl(["postgres:", "postgresql:"]),
  // At least 2: migrations hold an advisory lock on one connection while running on another.
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10),
  DATA_DIR: z.string().min(1).default(".data"),
  ADMIN_TOKEN: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .min(16, "must be at least 16 characters")
      // A bearer token is one word: a token with spaces could be set but never sent.
      .regex(/^\S+$/, "must have no spaces (it is sent as `Authorization: Bearer <token>`)")
      .optional(),
  ),
  PUBLIC_BASE_URL: optionalUrl(["http:", "https:"]),
  SMTP_URL: optionalUrl(["smtp:", "smtps:"]),
  MAIL_FROM: z.string().min(3).default("Daybreak <briefing@daybreak.localhost>"),
  /** Emails handed to the SMTP relay per second at most (nodemailer's pool rate limit). */
  SMTP_RATE_PER_SECOND: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** DKIM signing: all three set, or none. The key is a PEM string or a path to a PEM file. */
  DKIM_DOMAIN: z.preprocess(blankToUndefined, z.string().min(3).optional()),
  DKIM_SELECTOR: z.preprocess(blankToUndefined, z.string().min(1).optional()),
  DKIM_PRIVATE_KEY: z.preprocess(blankToUndefined, z.string().min(1).optional()),
  /** Signs links in emails (unsubscribe, preferences, feedback). Defaults to a per-data-dir secret. */
  LINK_SECRET: z.preprocess(
    blankToUndefined,
    z.string().min(16, "must be at least 16 characters").optional(),
  ),
  OPENAI_API_KEY: z.preprocess(blankToUndefined, z.string().optional()),
  OPENAI_BASE_URL: optionalUrl(["http:", "https:"]),
  OPENAI_MODEL: z.string().min(1).default("gpt-4o-mini"),
  OPENAI_EMBEDDING_MODEL: z.string().min(1).default("text-embedding-3-small"),
  /** One model request's time limit; past it the call fails and the offline path is used. */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** Tokens (in + out) the model may spend per UTC day; past it summaries fall back to extractive. */
  LLM_DAILY_TOKEN_BUDGET: z.coerce.number().int().min(0).default(2_000_000),
  FETCH_ALLOW_PRIVATE: booleanish.default(false),
  /** Hosts (names or IPs, comma separated) admitted even when private: development and tests. */
  FETCH_ALLOW_HOSTS: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(",")
            .map((h) => h.trim().toLowerCase())
            .filter(Boolean)
        : [],
    ),
  /** Politeness: the least time between two requests to one publisher's host (permitted private IP literals and localhost exempt). */
  FETCH_HOST_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  /** Fetch the article page when a feed carries only a teaser (readability extraction). */
  FETCH_FULL_TEXT: booleanish.default(true),
  /** Seed the bundled sample feeds and a demo subscriber when the database has none. */
  SAMPLE_DATA: booleanish.optional(),
  /** Per subscriber token on /v1: sustained requests per second, and the burst allowed. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(10),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(60),
  /** `serve` also runs the daily run's job workers; set false to keep API processes API-only. */
  SERVE_WORKERS: booleanish.default(true),
  /** Queues this process works (comma separated; empty: all), e.g. dedicated sending workers. */
  WORKER_QUEUES: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(",")
            .map((q) => q.trim())
            .filter(Boolean)
        : [],
    ),
  /** Jobs a worker process runs at once per queue (bounded by the database pool). */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * A job running longer than this is taken to be lost with its worker and is run again
   * (default: each queue's own limit, 1-10 minutes). Lower only for fault drills and tests.
   */
  JOB_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).optional(),
  /** How often the queue's supervisor looks for lost jobs (seconds). */
  QUEUE_MAINTENANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /**
   * A delivery claimed this long ago whose sender never reported back belongs to a dead sender:
   * before the relay had it, it is sent again; after, it is closed as sent. Longer than any send.
   */
  DELIVERY_CLAIM_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

const SECRETS = new Set(["ADMIN_TOKEN", "LINK_SECRET", "OPENAI_API_KEY", "DKIM_PRIVATE_KEY"]);

export type Config = z.infer<typeof configSchema> & {
  publicBaseUrl: string;
  sampleData: boolean;
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws one ConfigError whose message names each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.fromEntries(
    // An empty variable means "not set", as shells and .env files usually intend.
    Object.keys(configSchema.shape).map((k) => [k, env[k]?.trim() ? env[k]!.trim() : undefined]),
  );
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? "environment");
      const value = env[name];
      // Secrets are never echoed; URLs are shown without their password.
      const shown =
        value === undefined || SECRETS.has(name)
          ? ""
          : `=${JSON.stringify(value.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@"))}`;
      return `${name}${shown} ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const c = parsed.data;
  const dkim = [c.DKIM_DOMAIN, c.DKIM_SELECTOR, c.DKIM_PRIVATE_KEY].filter((v) => v !== undefined).length;
  if (dkim !== 0 && dkim !== 3) {
    throw new ConfigError(
      "invalid configuration: DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY must be set together",
    );
  }
  return {
    ...c,
    publicBaseUrl: (c.PUBLIC_BASE_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ""),
    sampleData: c.SAMPLE_DATA ?? c.DATABASE_URL === undefined,
  };
}
