import { runCli } from "./cli.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { DatabaseUnavailableError } from "./db/client.ts";
import { AppError } from "./lib/errors.ts";

/** Composition root: configuration, then the command. Expected failures print one line. */
async function main(): Promise<number> {
  try {
    const config = loadConfig(process.env);
    return await runCli(process.argv.slice(2), config);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DatabaseUnavailableError || err instanceof AppError) {
      process.stderr.write(`daybreak: ${err.message}\n`);
      return 1;
    }
    const e = err as Error;
    process.stderr.write(`daybreak: ${e?.message ?? String(err)}\n`);
    if (process.env.DEBUG) process.stderr.write(`${e?.stack}\n`);
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
  // serve/worker keep running until a signal; the others end here even if a pool lingers.
  if (!["serve", "worker"].includes(process.argv[2] ?? "")) setTimeout(() => process.exit(code), 50).unref();
});
