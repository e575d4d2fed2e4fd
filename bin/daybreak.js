#!/usr/bin/env node
// The `daybreak` command: runs the TypeScript sources through tsx (no build step), in this very
// process, so that SIGTERM and SIGINT reach the service's own shutdown (a child process spawned
// here kept serving after its parent was stopped, and `docker stop` waited for SIGKILL).
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

register();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await import(pathToFileURL(join(root, "src", "main.ts")).href);
