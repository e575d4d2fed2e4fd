import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import DKIM from "nodemailer/lib/dkim/index.js";
import SMTPConnection from "nodemailer/lib/smtp-connection/index.js";
import { buildMime, encodeAddress, parseMime } from "./mime.ts";

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

export type OutboxEntry = { name: string; to: string; subject: string; date: string; size: number };
export type OutboxMessage = OutboxEntry & { messageId: string; html?: string; text?: string; raw: string };

/** The folder of .eml files that stands in for a relay in development. */
export interface Outbox {
  dir: string;
  /** Newest first. */
  list(limit?: number): Promise<OutboxEntry[]>;
  /** null for a name that is not an email in the outbox. */
  read(name: string): Promise<OutboxMessage | null>;
}

/** What modules need to send mail: one message at a time, pooled underneath. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<SentEmail>;
  close(): Promise<void>;
  /** Set when mail goes to local files instead of a relay (no SMTP_URL): shown at /dev/outbox. */
  outbox?: Outbox;
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

const EML_NAME = /^[\w.-]+\.eml$/;

function createOutbox(dir: string): Outbox {
  const entry = async (name: string, raw: Buffer): Promise<OutboxMessage> => {
    const parsed = parseMime(raw);
    const date = parsed.headers.get("date");
    return {
      name,
      to: parsed.headers.get("to") ?? "",
      subject: parsed.headers.get("subject") ?? "",
      date: date && !Number.isNaN(Date.parse(date)) ? new Date(date).toISOString() : "",
      size: raw.length,
      messageId: parsed.headers.get("message-id") ?? "",
      html: parsed.html,
      text: parsed.text,
      raw: raw.toString("utf8"),
    };
  };
  return {
    dir,
    async list(limit = 200) {
      const names = await readdir(dir).catch(() => [] as string[]);
      const files = await Promise.all(
        names
          .filter((n) => EML_NAME.test(n))
          .map(async (n) => ({ n, t: (await stat(join(dir, n))).mtimeMs })),
      );
      // Newest first; the names start with an ISO time, which breaks ties within a millisecond.
      files.sort((x, y) => y.t - x.t || y.n.localeCompare(x.n));
      return Promise.all(
        files.slice(0, limit).map(async ({ n }) => {
          const {
            html: _h,
            text: _t,
            raw: _r,
            messageId: _m,
            ...meta
          } = await entry(n, await readFile(join(dir, n)));
          return meta;
        }),
      );
    },
    async read(name) {
      if (!EML_NAME.test(name)) return null;
      const raw = await readFile(join(dir, name)).catch(() => null);
      return raw ? entry(name, raw) : null;
    },
  };
}

/** No SMTP configured: every email becomes an .eml file in the outbox folder. */
export function createOutboxMailer(dir: string, opts: MailerOptions): Mailer {
  const compose = createComposer(opts);
  return {
    outbox: createOutbox(dir),
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
 * The message as a stream whose end is held until `beforeCommit` resolves. SMTPConnection reads it
 * only after the relay answered DATA with 354 and writes the end-of-data mark (which is what makes
 * the relay accept) only after the stream ends.
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

type Connection = { smtp: SMTPConnection; alive: boolean; onDead?: (err: Error) => void };

/** An error in nodemailer's shape, so classifySendError reads a lost connection as transient. */
const connectionLost = (err?: Error) =>
  Object.assign(new Error(err?.message ?? "Connection closed unexpectedly"), { code: "ECONNECTION" });

/**
 * Long-lived SMTP connections, each sending one message at a time. Not nodemailer's pool: that
 * one reads the message before the relay is ready (so the end mark cannot be held), puts a
 * message whose connection closed back in its queue (after the end mark, a second email) and
 * spends ~1.9 ms of CPU composing each message.
 */
function createSmtpPool(url: string, maxConnections: number) {
  const u = new URL(url);
  const secure = u.protocol === "smtps:";
  const options = {
    host: u.hostname,
    port: Number(u.port || (secure ? 465 : 587)),
    secure,
    // `?tls=insecure` accepts a self-signed certificate (local relays and test servers).
    tls: u.searchParams.get("tls") === "insecure" ? { rejectUnauthorized: false } : undefined,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  };
  const auth = u.username
    ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
    : undefined;
  const idle: Connection[] = [];
  const waiting: ((c: Connection | null) => void)[] = [];
  let open = 0;
  let closed = false;

  async function connect(): Promise<Connection> {
    const smtp = new SMTPConnection(options);
    const conn: Connection = { smtp, alive: true };
    // A connection that ends mid-command never calls the command's callback: fail it here.
    const dead = (err?: Error) => {
      conn.alive = false;
      const i = idle.indexOf(conn);
      if (i >= 0) idle.splice(i, 1);
      conn.onDead?.(connectionLost(err));
    };
    smtp.on("error", dead);
    smtp.on("end", () => dead());
    await new Promise<void>((resolve, reject) => {
      conn.onDead = reject;
      smtp.connect((err) => (err ? reject(err) : resolve()));
    });
    if (auth) {
      await new Promise<void>((resolve, reject) => {
        conn.onDead = reject;
        smtp.login(auth, (err) => (err ? reject(err) : resolve()));
      });
    }
    conn.onDead = undefined;
    return conn;
  }

  async function acquire(): Promise<Connection> {
    if (closed) throw new Error("the mailer is closed");
    const ready = idle.pop();
    if (ready) return ready;
    if (open < maxConnections) {
      open++;
      try {
        return await connect();
      } catch (err) {
        open--;
        throw err;
      }
    }
    const next = await new Promise<Connection | null>((resolve) => waiting.push(resolve));
    return next ?? acquire();
  }

  function release(conn: Connection, reusable: boolean) {
    if (!reusable || !conn.alive || closed) {
      conn.alive = false;
      conn.smtp.close();
      open--;
      // A freed slot: the next waiter opens its own connection.
      waiting.shift()?.(null);
      return;
    }
    const waiter = waiting.shift();
    if (waiter) waiter(conn);
    else idle.push(conn);
  }

  return {
    async send(envelope: { from: string; to: string[] }, message: Readable): Promise<void> {
      const conn = await acquire();
      try {
        await new Promise<void>((resolve, reject) => {
          if (!conn.alive) return reject(connectionLost());
          conn.onDead = reject;
          conn.smtp.send(envelope, message, (err) => (err ? reject(err) : resolve()));
        });
        conn.onDead = undefined;
        release(conn, true);
      } catch (err) {
        // After any failure the session state is unknown: a fresh connection is cheaper than RSET logic.
        release(conn, false);
        throw err;
      }
    },
    close() {
      closed = true;
      for (const c of idle.splice(0)) c.smtp.quit();
      for (const w of waiting.splice(0)) w(null);
    },
  };
}

/** At most `perSecond` sends started in any one-second window. */
function createRateLimit(perSecond: number | undefined) {
  let windowStart = 0;
  let count = 0;
  return async function take() {
    if (!perSecond) return;
    for (;;) {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        count = 0;
      }
      if (count < perSecond) {
        count++;
        return;
      }
      await new Promise((r) => setTimeout(r, windowStart + 1000 - now));
    }
  };
}

/** SMTP with pooled, long-lived connections (SMTP_URL) and a rate limit. */
export function createSmtpMailer(url: string, opts: SmtpMailerOptions): Mailer {
  const pool = createSmtpPool(url, opts.maxConnections ?? 5);
  const take = createRateLimit(opts.ratePerSecond);
  const compose = createComposer(opts);
  const envelopeFrom = envelopeAddress(opts.from);
  return {
    async send(email) {
      const { messageId, raw } = await compose(email);
      await take();
      try {
        await pool.send({ from: envelopeFrom, to: [email.to] }, heldUntilCommit(raw, email.beforeCommit));
      } catch (err) {
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), {
          failure: classifySendError(err),
        });
      }
      return { messageId };
    },
    async close() {
      pool.close();
    },
  };
}

/**
 * What an SMTP failure means for the next attempt. 4xx replies and connections lost before the
 * relay answered are transient. A 5xx to RCPT means the address does not take mail, unless it is
 * a policy refusal (5.7.x: "relay access denied"). A 5xx to anything before the recipient (the
 * greeting, AUTH, MAIL FROM: "sender address rejected", 5.1.7/5.1.8) or a policy refusal says the
 * relay refuses us, not this reader or message: "relay", retried across ticks and for the operator
 * to fix (it bounced every reader and lost the morning). A 5xx to the message itself refuses it.
 */
export type SendFailureKind = "transient" | "relay" | "rejected_recipient" | "permanent";
/** Carried as `failure` by what a mailer's send throws; anything without it counts as transient. */
export type SendFailure = { kind: SendFailureKind; code?: number };

export function classifySendError(err: unknown): SendFailure {
  const e = err as { responseCode?: number; command?: string; response?: string };
  const code = typeof e?.responseCode === "number" ? e.responseCode : undefined;
  if (code === undefined || code < 500) return { kind: "transient", code };
  const command = (e.command ?? "").toUpperCase();
  const reply = e.response ?? "";
  // Refusals of Daybreak as a client: relaying, authentication, the sender, the connecting host.
  const refusesUs =
    /\b5\.7\.(?:0|1|8|9|26|27)\b/.test(reply) && /relay|auth|sender|client|host|spf|dmarc/i.test(reply);
  // A mailbox that does not exist or take mail (5.1.x but 5.1.7/5.1.8, which are the sender's; 5.2.1).
  const badAddress = /\b5\.1\.(?:[0-69]|10)\b|\b5\.2\.1\b/.test(reply);
  if (command.startsWith("RCPT")) return { kind: refusesUs ? "relay" : "rejected_recipient", code };
  if (command.startsWith("DATA") || command === "" || command.startsWith("MESSAGE"))
    return { kind: refusesUs ? "relay" : badAddress ? "rejected_recipient" : "permanent", code };
  // MAIL FROM with a size refusal (552, 5.3.4) refuses this message, not us.
  if (command.startsWith("MAIL") && (code === 552 || /\b5\.3\.4\b/.test(reply)))
    return { kind: "permanent", code };
  return { kind: "relay", code };
}
