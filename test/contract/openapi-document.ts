import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import type { Db, DbHandle } from "../../src/db/client.ts";
import { createDeps } from "../../src/deps.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { ADMIN_TOKEN, recordingMailer } from "../deps.ts";

/**
 * The live OpenAPI document, as `/openapi.json` serves it with the admin routes enabled. Building
 * the document touches no database, so none is opened: a query would fail loudly.
 */
export async function liveOpenApiDocument(): Promise<Record<string, unknown>> {
  const noDb: DbHandle = {
    db: new Proxy({} as Db, {
      get() {
        throw new Error("the OpenAPI document must not need the database");
      },
    }),
    driver: "postgres",
    close: async () => {},
  };
  const deps = await createDeps(loadConfig({ ADMIN_TOKEN, LOG_LEVEL: "silent", DATA_DIR: ".data" }), {
    dbHandle: noDb,
    logger: silentLogger,
    mailer: recordingMailer(),
    llm: null,
  });
  const res = await createApp(deps).request("/openapi.json");
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}
