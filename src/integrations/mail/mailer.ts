import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import nodemailer from "nodemailer";
import DKIM from "nodemailer/lib/dkim/index.js";
import { buildMime, encodeAddress } from "./mime.ts";

export type OutgoingEmail = {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  /** Set by the caller so a retried send can be recognised; generated when absent. */
  messageId?: string;
  /**
   * Called once the relay holds the whole message and only the end-of-data mark is still to be
   * written: the last moment the sender can record "this may now be delivered". If it throws, the
   * message is abandoned without that mark and the relay discards it.
   */
  beforeCommit?: () => Promise<void>;
};

export type SentEmail = { messageId: string; location?: string };

/** What modules need to send mail: one message at a time, pooled underneath. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<SentEmail>;
  close(): Promise<void>;
  /** Set when mail goes to local files instead of a relay (no SMTP_URL): the /dev/outbox folder. */
  outboxDir?: string;
}

export type DkimOptions = { domainName: string; keySelector: string; privateKey: string };

export type MailerOptions = { from: string; messageIdDomain: string; dkim?: DkimOptions };

/**
 * Signed on top of nodemailer's defaults: RFC 8058 requires List-Unsubscribe-Post to be covered
 * by the signature, and List-Unsubscribe is signed so neither can be altered in transit.
 */
const DKIM_HEADERS =
  "From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:" +
  "Content-Transfer-Encoding:List-Id:List-Unsubscribe:List-Unsubscribe-Post";

/** DKIM_PRIVATE_KEY holds either the PEM text or a path to a PEM file. */
export function loadDkimKey(value: string): string {
  return value.includes("-----BEGIN") ? value.replace(/\\n/g, "\n") : readFileSync(value, "utf8");
}

function createSigner(dkim: DkimOptions | undefined) {
  if (!dkim) return async (raw: Buffer) => raw;
  const signer = new DKIM({ ...dkim, headerFieldNames: DKIM_HEADERS });
  return async (raw: Buffer) => {
    const chunks: Buffer[] = [];
    for await (const chunk of signer.sign(raw)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
}

/** Builds (and signs) the whole message once; sending only writes bytes. */
function createComposer(opts: MailerOptions) {
  const from = encodeAddress(opts.from);
  const sign = createSigner(opts.dkim);
  return async (email: OutgoingEmail) => {
    const messageId = email.messageId ?? `<${randomUUID()}@${opts.messageIdDomain}>`;
    const raw = buildMime({
      from,
      to: email.to,
      subject: email.subject,
      html: email.html,
      text: email.text,
      headers: email.headers,
      messageId,
      date: new Date(),
    });
    return { messageId, raw: await sign(raw) };
  };
}

export function envelopeAddress(from: string): string {
  return from.match(/<([^<>]+)>/)?.[1] ?? from.trim();
}

/** No SMTP configured: every email becomes an .eml file in the outbox folder. */
export function createOutboxMailer(dir: string, opts: MailerOptions): Mailer {
  const compose = createComposer(opts);
  return {
    outboxDir: dir,
    async send(email) {
      const { messageId, raw } = await compose(email);
      await email.beforeCommit?.();
      await mkdir(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const file = join(dir, `${stamp}-${randomUUID().slice(0, 8)}.eml`);
      await writeFile(file, raw);
      return { messageId, location: file };
    },
    async close() {},
  };
}

/**
 * The message as a stream whose end is held until `beforeCommit` resolves: the relay only
 * accepts a message when it reads the end-of-data mark, which is written after the stream ends.
 */
function heldUntilCommit(raw: Buffer, beforeCommit?: () => Promise<void>): Readable {
  let step: "body" | "commit" | "waiting" = "body";
  return new Readable({
    read() {
      if (step === "body") {
        step = "commit";
        this.push(raw);
      } else if (step === "commit") {
        step = "waiting";
        if (!beforeCommit) this.push(null);
        else
          beforeCommit().then(
            () => this.push(null),
            (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
          );
      }
    },
  });
}

export type SmtpMailerOptions = MailerOptions & { maxConnections?: number; ratePerSecond?: number };

/** SMTP with pooled, long-lived connections (SMTP_URL) and a rate limit. */
export function createSmtpMailer(url: string, opts: SmtpMailerOptions): Mailer {
  const u = new URL(url);
  const transport = nodemailer.createTransport({
    pool: true,
    host: u.hostname,
    port: Number(u.port || (u.protocol === "smtps:" ? 465 : 587)),
    secure: u.protocol === "smtps:",
    auth: u.username
      ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
      : undefined,
    maxConnections: opts.maxConnections ?? 5,
    // The pool otherwise closes each connection after 100 messages; reconnecting cost a third of
    // the throughput in bench/email-throughput.ts.
    maxMessages: Number.POSITIVE_INFINITY,
    rateDelta: 1000,
    rateLimit: opts.ratePerSecond,
    // `?tls=insecure` accepts a self-signed certificate (local relays and test servers).
    tls: u.searchParams.get("tls") === "insecure" ? { rejectUnauthorized: false } : undefined,
  });
  const compose = createComposer(opts);
  const envelopeFrom = envelopeAddress(opts.from);
  return {
    async send(email) {
      const { messageId, raw } = await compose(email);
      await transport.sendMail({
        envelope: { from: envelopeFrom, to: [email.to] },
        raw: heldUntilCommit(raw, email.beforeCommit),
      });
      return { messageId };
    },
    async close() {
      transport.close();
    },
  };
}

/**
 * What an SMTP failure means for the next attempt. 4xx replies and connections lost before the
 * relay answered are transient; a 5xx for the recipient means the address does not take mail;
 * any other 5xx refuses this message.
 */
export type SendFailureKind = "transient" | "rejected_recipient" | "permanent";

export function classifySendError(err: unknown): { kind: SendFailureKind; code?: number } {
  const e = err as { responseCode?: number; command?: string; response?: string };
  const code = typeof e?.responseCode === "number" ? e.responseCode : undefined;
  if (code === undefined || code < 500) return { kind: "transient", code };
  const forRecipient = /RCPT/i.test(e.command ?? "") || /\b5\.1\.[0-9]\b/.test(e.response ?? "");
  return { kind: forRecipient ? "rejected_recipient" : "permanent", code };
}
