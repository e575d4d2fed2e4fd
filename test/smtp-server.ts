import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { SMTPServer, type SMTPServerSession } from "smtp-server";

export type ReceivedMail = { from: string; to: string[]; raw: Buffer; at: number };

/** What the next sessions meet; each fault can be switched on and off while the server runs. */
export type SmtpFaults = {
  /** Close the socket at MAIL FROM, this many more times (a relay that vanishes). */
  dropConnections?: number;
  /** Answer MAIL FROM with this 4xx code, this many more times (greylisting, a busy relay). */
  temporary?: { code: 421 | 451; times: number };
  /** Refuse these recipients with 550 (no such mailbox). */
  rejectRecipients?: string[];
  /** Answer MAIL FROM with this 5xx reply (a relay refusing the sender: "550 5.1.8 ..."). */
  refuseSender?: { code: number; message: string };
  /** Answer every RCPT with this 5xx reply (a relay policy refusal: "554 5.7.1 relay access denied"). */
  refuseRelay?: { code: number; message: string };
  /** Called when a message has been read in full, before the 250 reply; may hold the reply. */
  beforeAccept?: (mail: ReceivedMail) => Promise<void> | void;
  /** Called at MAIL FROM, before the answer. */
  onMailFrom?: (session: SMTPServerSession) => Promise<void> | void;
};

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A real SMTP server on 127.0.0.1 and a free port that keeps every message it accepts, with the
 * faults a relay shows in production. `url` is an SMTP_URL for the mailer.
 */
export async function startSmtpServer(faults: SmtpFaults = {}) {
  const received: ReceivedMail[] = [];
  const state = { faults, sessions: 0 };
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    size: 10 * 1024 * 1024,
    onConnect(_session, cb) {
      state.sessions++;
      cb();
    },
    async onMailFrom(_address, session, cb) {
      const f = state.faults;
      await f.onMailFrom?.(session);
      if (f.dropConnections && f.dropConnections > 0) {
        f.dropConnections--;
        // Reaching the socket is the only way smtp-server offers to hang up mid-session.
        const connections = (
          server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }
        ).connections;
        for (const c of connections) if (c.id === session.id) c._socket.destroy();
        return;
      }
      if (f.temporary && f.temporary.times > 0) {
        f.temporary.times--;
        return cb(smtpError(f.temporary.code, "Try again later"));
      }
      if (f.refuseSender) return cb(smtpError(f.refuseSender.code, f.refuseSender.message));
      cb();
    },
    onRcptTo(address, _session, cb) {
      const relay = state.faults.refuseRelay;
      if (relay) return cb(smtpError(relay.code, relay.message));
      const rejected = state.faults.rejectRecipients ?? [];
      if (rejected.includes(address.address.toLowerCase())) {
        return cb(smtpError(550, `5.1.1 <${address.address}>: mailbox unavailable`));
      }
      cb();
    },
    async onData(stream, session, cb) {
      try {
        const raw = await readAll(stream);
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          raw,
          at: Date.now(),
        };
        await state.faults.beforeAccept?.(mail);
        received.push(mail);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    /** Replaces the fault settings for the next commands. */
    setFaults(next: SmtpFaults) {
      state.faults = next;
    },
    get sessions() {
      return state.sessions;
    },
    /** Messages addressed to `email`. */
    to(email: string) {
      return received.filter((m) => m.to.includes(email.toLowerCase()));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpSink = Awaited<ReturnType<typeof startSmtpServer>>;
