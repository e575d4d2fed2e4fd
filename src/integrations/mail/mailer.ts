import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import nodemailer from "nodemailer";
import type Mail from "nodemailer/lib/mailer/index.js";

export type OutgoingEmail = {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  /** Set by the caller so a retried send can be recognised; generated when absent. */
  messageId?: string;
};

export type SentEmail = { messageId: string; location?: string };

/** What modules need to send mail: one message at a time, pooled underneath. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<SentEmail>;
  close(): Promise<void>;
}

export type MailerOptions = { from: string; messageIdDomain: string };

function toNodemailer(email: OutgoingEmail, opts: MailerOptions): Mail.Options {
  return {
    from: opts.from,
    to: email.to,
    subject: email.subject,
    html: email.html,
    text: email.text,
    headers: email.headers,
    messageId: email.messageId ?? `<${randomUUID()}@${opts.messageIdDomain}>`,
  };
}

/** No SMTP configured: every email becomes an .eml file in the outbox folder. */
export function createOutboxMailer(dir: string, opts: MailerOptions): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  return {
    async send(email) {
      const message = toNodemailer(email, opts);
      const info = await transport.sendMail(message);
      await mkdir(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const file = join(dir, `${stamp}-${randomUUID().slice(0, 8)}.eml`);
      await writeFile(file, info.message as Buffer);
      return { messageId: message.messageId as string, location: file };
    },
    async close() {
      transport.close();
    },
  };
}

/** SMTP with pooled connections (SMTP_URL). */
export function createSmtpMailer(url: string, opts: MailerOptions & { maxConnections?: number }): Mailer {
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
    // The pool otherwise reconnects every 100 messages.
    maxMessages: Number.POSITIVE_INFINITY,
    // `?tls=insecure` accepts a self-signed certificate (local relays and test servers).
    tls: u.searchParams.get("tls") === "insecure" ? { rejectUnauthorized: false } : undefined,
  });
  return {
    async send(email) {
      const message = toNodemailer(email, opts);
      await transport.sendMail(message);
      return { messageId: message.messageId as string };
    },
    async close() {
      transport.close();
    },
  };
}
