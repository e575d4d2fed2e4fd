/**
 * The daily email's cost: 10,000 briefing emails rendered and sent to a local SMTP sink.
 *  - render: the MJML template compiled once and filled per subscriber (what production does),
 *    next to mjml2html run per email (a sample, in the same run);
 *  - send: end to end (model, render, MIME, SMTP) through the production pooled mailer, and, for
 *    reference, through nodemailer's own pool (maxMessages: Infinity) on a smaller sample.
 * The sink runs in a child process on the same machine.
 *   npm run bench:email [-- emails mjml-sample connections]   (defaults 10000 200 5)
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mjml2html from "mjml";
import Mustache from "mustache";
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";
import { loadConfig } from "../src/config.ts";
import { createDeps, sampleFeedsDir, templatesDir } from "../src/deps.ts";
import { createSmtpMailer, type Mailer } from "../src/integrations/mail/mailer.ts";
import { runIngest } from "../src/jobs/pipeline.ts";
import { seedSampleSources } from "../src/jobs/sample-data.ts";
import { fixedClock } from "../src/lib/clock.ts";
import { silentLogger } from "../src/lib/logger.ts";
import { compileMjmlTemplate } from "../src/lib/mjml-templates.ts";
import { generateBriefings, getBriefingForDate } from "../src/modules/briefings/index.ts";
import { briefingEmailModel, briefingText, storyLinkUrls } from "../src/modules/delivery/index.ts";
import { createSubscriber } from "../src/modules/profiles/index.ts";

/** The sink in its own process (`--sink`), so the sender's figures are the sender's. */
async function sinkProcess() {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, "--sink"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve) =>
    child.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim()))),
  );
  return { url: `smtp://127.0.0.1:${port}`, port, close: () => child.kill() };
}

async function startSink() {
  let received = 0;
  let bytes = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, cb) {
      stream.on("data", (c: Buffer) => {
        bytes += c.length;
      });
      stream.on("end", () => {
        received++;
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    get received() {
      return received;
    },
    get bytes() {
      return bytes;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Runs `n` tasks with at most `width` in flight; returns the elapsed seconds. */
async function inParallel(n: number, width: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function main() {
  const count = Number(process.argv[2] ?? 10_000);
  const mjmlSample = Number(process.argv[3] ?? 200);
  const nodemailerSample = Math.min(count, 2_000);

  // A real briefing from the bundled sample news, in an in-memory database.
  const config = loadConfig({
    LOG_LEVEL: "silent",
    DATA_DIR: mkdtempSync(join(tmpdir(), "daybreak-bench-email-")),
  });
  const deps = await createDeps(config, {
    inMemoryDb: true,
    clock: fixedClock("2026-11-27T07:05:00Z"),
    logger: silentLogger,
    llm: null,
  });
  const { migrate } = await import("../src/db/migrate.ts");
  await migrate(deps.dbHandle);
  await seedSampleSources(deps, sampleFeedsDir);
  await runIngest(deps);
  const { subscriber } = await createSubscriber(deps, {
    email: "bench@example.com",
    name: "Bench Reader",
    role: "Credit analyst",
    industry: "Banking",
    timezone: "Europe/London",
    deliveryTime: "07:00",
  });
  await generateBriefings(deps, { subscriberIds: [subscriber.id] });
  const briefing = await getBriefingForDate(deps, subscriber.id, "2026-11-27");
  const recipient = (i: number) => ({
    email: `reader${i}@example.com`,
    name: `Reader ${i}`,
    timezone: "Europe/London",
    deliveryTime: "07:00",
  });
  const links = (i: number) => ({
    preferencesUrl: `${config.publicBaseUrl}/preferences/token-${i}-${"x".repeat(60)}`,
    unsubscribeUrl: `${config.publicBaseUrl}/unsubscribe/token-${i}-${"x".repeat(60)}`,
    // Each story's read, share and feedback links, signed per email as production does.
    storyLinks: storyLinkUrls(deps.config, `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`),
  });
  const render = (template: { render(v: object): string }, i: number) => {
    const model = briefingEmailModel(briefing, recipient(i), links(i));
    return { subject: model.subject, html: template.render(model), text: briefingText(model) };
  };

  // Render: compiled once, filled per email.
  const t0 = performance.now();
  const compiled = await compileMjmlTemplate(templatesDir, "briefing");
  const compileMs = performance.now() - t0;
  for (let i = 0; i < 200; i++) render(compiled, i); // warm-up
  let htmlBytes = 0;
  const t1 = performance.now();
  for (let i = 0; i < count; i++) htmlBytes += render(compiled, i).html.length;
  const compiledMs = (performance.now() - t1) / count;

  // Render: mjml2html per email (what the compiled template avoids), on a sample.
  const source = readFileSync(join(templatesDir, "briefing.mjml"), "utf8");
  const t2 = performance.now();
  for (let i = 0; i < mjmlSample; i++) {
    const html = (
      await mjml2html(source, {
        filePath: join(templatesDir, "briefing.mjml"),
        ignoreIncludes: false,
        validationLevel: "strict",
      })
    ).html;
    Mustache.render(html, briefingEmailModel(briefing, recipient(i), links(i)));
  }
  const mjmlMs = (performance.now() - t2) / mjmlSample;

  // Send: the production mailer (own SMTP pool, MIME built once per email), end to end.
  const sink = await sinkProcess();
  const maxConnections = Number(process.argv[4] ?? 5);
  const send = async (mailer: Mailer, n: number) =>
    inParallel(n, maxConnections * 4, async (i) => {
      const email = render(compiled, i);
      await mailer.send({
        to: recipient(i).email,
        ...email,
        messageId: `<bench-${i}@daybreak.localhost>`,
        headers: {
          "List-Unsubscribe": `<${links(i).unsubscribeUrl}>, <mailto:unsubscribe@daybreak.localhost?subject=unsubscribe>`,
          "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
      });
    });
  const mailer = createSmtpMailer(sink.url, {
    from: config.MAIL_FROM,
    messageIdDomain: "daybreak.localhost",
    maxConnections,
  });
  await send(mailer, 200); // connections open, JIT warm
  const sendSeconds = await send(mailer, count);
  const delivered = count; // each send resolves only on the sink's 250
  await mailer.close();

  // Reference: nodemailer's pool composing each message, connections kept (maxMessages: Infinity).
  const transport = nodemailer.createTransport({
    pool: true,
    host: "127.0.0.1",
    port: sink.port,
    secure: false,
    maxConnections,
    maxMessages: Number.POSITIVE_INFINITY,
  });
  const viaNodemailer: Mailer = {
    async send(email) {
      await transport.sendMail({ from: config.MAIL_FROM, ...email });
      return { messageId: email.messageId ?? "" };
    },
    close: async () => transport.close(),
  };
  await send(viaNodemailer, 200);
  const nodemailerSeconds = await send(viaNodemailer, nodemailerSample);
  await viaNodemailer.close();
  sink.close();
  await deps.close();

  const result = {
    bench: "email-throughput",
    emails: count,
    stories_per_email: briefing.items.length,
    html_bytes_per_email: Math.round(htmlBytes / count),
    compile_once_ms: Number(compileMs.toFixed(1)),
    render_ms_per_email_compiled: Number(compiledMs.toFixed(4)),
    render_ms_per_email_mjml2html: Number(mjmlMs.toFixed(2)),
    mjml2html_sample: mjmlSample,
    render_speedup: Math.round(mjmlMs / compiledMs),
    send_emails_per_second: Math.round(delivered / sendSeconds),
    send_seconds: Number(sendSeconds.toFixed(2)),
    delivered,
    smtp_connections: maxConnections,
    nodemailer_pool_emails_per_second: Math.round(nodemailerSample / nodemailerSeconds),
    nodemailer_pool_sample: nodemailerSample,
    targets: { render_ms_per_email: 0.5, emails_per_second: 500 },
    met: compiledMs < 0.5 && delivered / sendSeconds >= 500,
    node: process.version,
    note: "SMTP sink in a separate process on the same 2-core machine, which was shared with other work",
  };
  const json = JSON.stringify(result, null, 2);
  console.log(json);
  mkdirSync(join(process.cwd(), "bench", "results"), { recursive: true });
  writeFileSync(join(process.cwd(), "bench", "results", "email-throughput.json"), `${json}\n`);
}

if (process.argv.includes("--sink")) {
  const sink = await startSink();
  console.log(sink.port);
} else {
  await main();
  process.exit(0);
}
