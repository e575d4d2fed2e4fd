import { createHash, createVerify, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmtpSink, startSmtpServer } from "../../../test/smtp-server.ts";
import {
  classifySendError,
  createOutboxMailer,
  createSmtpMailer,
  loadDkimKey,
  type OutgoingEmail,
} from "./mailer.ts";

const from = "Daybreak <briefing@daybreak.example>";
const opts = { from, messageIdDomain: "daybreak.example" };

function email(to: string, extra: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    to,
    subject: "Your Daybreak briefing: Zürich rates — what changed",
    html: '<p>Hello <a href="https://news.example/a">(news.example)</a></p>',
    text: "Hello (news.example) https://news.example/a\n",
    messageId: "<d-1@daybreak.example>",
    headers: {
      "List-Unsubscribe": `<https://daybreak.example/unsubscribe/${"t".repeat(90)}>, <mailto:unsubscribe@daybreak.example?subject=unsubscribe>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    ...extra,
  };
}

function rsaKeys() {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
}

/** DKIM verification (RFC 6376, relaxed/relaxed), written apart from the signer it checks. */
function verifyDkim(raw: Buffer, publicKey: string) {
  const text = raw.toString("utf8");
  const split = text.indexOf("\r\n\r\n");
  const headerText = text.slice(0, split);
  const body = text.slice(split + 4);
  const headers = headerText.split(/\r\n(?![ \t])/).map((line) => {
    const i = line.indexOf(":");
    return { name: line.slice(0, i).trim().toLowerCase(), line, value: line.slice(i + 1) };
  });
  const sig = headers.find((h) => h.name === "dkim-signature");
  if (!sig) throw new Error("no DKIM-Signature");
  const tags = Object.fromEntries(
    sig.value
      .replace(/\s+/g, "")
      .split(";")
      .filter(Boolean)
      .map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]),
  ) as Record<string, string>;
  const relaxedHeader = (name: string, value: string) =>
    `${name}:${value
      .replace(/\r\n/g, "")
      .replace(/[ \t]+/g, " ")
      .trim()}`;
  let canonBody = body
    .split("\r\n")
    .map((l) => l.replace(/[ \t]+/g, " ").replace(/ $/, ""))
    .join("\r\n")
    .replace(/(\r\n)*$/, "");
  if (canonBody) canonBody += "\r\n";
  const bodyHash = createHash("sha256").update(canonBody).digest("base64");
  const signedNames = tags.h!.toLowerCase().split(":");
  const used = new Map<string, number>();
  const lines: string[] = [];
  for (const name of signedNames) {
    const all = headers.filter((h) => h.name === name);
    const n = used.get(name) ?? 0;
    used.set(name, n + 1);
    const h = all[all.length - 1 - n];
    if (h) lines.push(relaxedHeader(name, h.value));
  }
  const sigWithoutB = sig.value.replace(/(\bb=)[^;]*/, "$1");
  const data = `${lines.join("\r\n")}\r\n${relaxedHeader("dkim-signature", sigWithoutB)}`;
  const ok = createVerify("RSA-SHA256").update(data).verify(publicKey, tags.b!, "base64");
  return { tags, bodyHashMatches: bodyHash === tags.bh, signatureValid: ok };
}

let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpServer();
});
afterAll(async () => {
  await sink.close();
});

describe("SMTP mailer", () => {
  it("delivers a multipart message that mailparser reads back with both unsubscribe headers and the Message-ID", async () => {
    const mailer = createSmtpMailer(sink.url, opts);
    await mailer.send(email("reader@example.com"));
    await mailer.close();
    const [got] = sink.to("reader@example.com");
    expect(got?.from).toBe("briefing@daybreak.example");
    const parsed = await simpleParser(got!.raw);
    expect(parsed.messageId).toBe("<d-1@daybreak.example>");
    expect(parsed.subject).toBe("Your Daybreak briefing: Zürich rates — what changed");
    expect(parsed.from?.value).toEqual([{ name: "Daybreak", address: "briefing@daybreak.example" }]);
    expect(parsed.html).toContain('href="https://news.example/a"');
    expect(parsed.text).toContain("https://news.example/a");
    // mailparser files List-Unsubscribe under "list": one object with the URL and the mailto.
    const list = parsed.headers.get("list") as Record<string, Record<string, string>>;
    expect(list.unsubscribe).toEqual({
      url: `https://daybreak.example/unsubscribe/${"t".repeat(90)}`,
      mail: "unsubscribe@daybreak.example?subject=unsubscribe",
    });
    expect(list["unsubscribe-post"]).toEqual({ name: "List-Unsubscribe=One-Click" });
  });

  it("sends a subject that looks like an encoded word as the text it is, not as what it would decode to", async () => {
    const mailer = createSmtpMailer(sink.url, opts);
    const subject = "Markets: =?UTF-8?B?WW91ciBhY2NvdW50IGlzIHN1c3BlbmRlZA==?= semiconductors";
    await mailer.send({ ...email("spoof@example.com"), subject });
    await mailer.close();
    const parsed = await simpleParser(sink.to("spoof@example.com")[0]!.raw);
    expect(parsed.subject).toBe(subject);
    expect(parsed.subject).not.toContain("suspended");
  });

  it("signs with DKIM, covering both List-Unsubscribe headers, with a signature the public key verifies", async () => {
    const { publicKey, privateKey } = rsaKeys();
    const dkim = { domainName: "daybreak.example", keySelector: "mail2026", privateKey };
    const mailer = createSmtpMailer(sink.url, { ...opts, dkim });
    await mailer.send(email("signed@example.com"));
    await mailer.close();
    const raw = sink.to("signed@example.com")[0]!.raw;
    const parsed = await simpleParser(raw);
    expect(parsed.headers.get("dkim-signature")).toBeTruthy();
    const check = verifyDkim(raw, publicKey);
    expect(check.tags).toMatchObject({ d: "daybreak.example", s: "mail2026", a: "rsa-sha256" });
    expect(check.tags.h!.toLowerCase().split(":")).toEqual(
      expect.arrayContaining(["from", "subject", "message-id", "list-unsubscribe", "list-unsubscribe-post"]),
    );
    expect(check.bodyHashMatches).toBe(true);
    expect(check.signatureValid).toBe(true);

    // The same check fails for a message altered after signing: the test can tell a bad signature.
    const tampered = Buffer.from(
      raw.toString("utf8").replace("List-Unsubscribe=One-Click", "List-Unsubscribe=Two"),
    );
    expect(verifyDkim(tampered, publicKey).signatureValid).toBe(false);
  });

  it("reads the DKIM key from PEM text or from a path to a PEM file", () => {
    const { privateKey } = rsaKeys();
    const file = join(mkdtempSync(join(tmpdir(), "daybreak-dkim-")), "dkim.pem");
    writeFileSync(file, privateKey);
    expect(loadDkimKey(file)).toBe(privateKey);
    expect(loadDkimKey(privateKey)).toBe(privateKey);
    expect(loadDkimKey(privateKey.replace(/\n/g, "\\n"))).toBe(privateKey);
  });

  it("classifies a 4xx and a dropped connection as transient and a 550 at RCPT as a rejected recipient", async () => {
    const failures = async (faults: Parameters<SmtpSink["setFaults"]>[0], to: string) => {
      sink.setFaults(faults);
      const mailer = createSmtpMailer(sink.url, opts);
      try {
        await mailer.send(email(to));
        return null;
      } catch (err) {
        return classifySendError(err);
      } finally {
        await mailer.close();
        sink.setFaults({});
      }
    };
    expect(await failures({ temporary: { code: 451, times: 1 } }, "a@example.com")).toEqual({
      kind: "transient",
      code: 451,
    });
    expect((await failures({ dropConnections: 1 }, "b@example.com"))?.kind).toBe("transient");
    expect(await failures({ rejectRecipients: ["gone@example.com"] }, "gone@example.com")).toEqual({
      kind: "rejected_recipient",
      code: 550,
    });
    expect(sink.to("gone@example.com")).toHaveLength(0);
    // The relay refusing Daybreak is no verdict on the reader: retried, never a bounce.
    expect(
      await failures(
        { refuseSender: { code: 550, message: "5.1.8 Sender address rejected" } },
        "c@example.com",
      ),
    ).toEqual({ kind: "relay", code: 550 });
    expect(
      await failures({ refuseRelay: { code: 554, message: "5.7.1 Relay access denied" } }, "d@example.com"),
    ).toEqual({ kind: "relay", code: 554 });
    // A policy refusal of the recipient is about the address.
    expect(
      await failures(
        { refuseRelay: { code: 554, message: "5.7.1 <e@example.com>: Recipient address rejected" } },
        "e@example.com",
      ),
    ).toEqual({ kind: "rejected_recipient", code: 554 });
  });

  it("classifies replies by the command they answer and what they say", () => {
    const kind = (command: string, responseCode: number, response: string) =>
      classifySendError({ command, responseCode, response }).kind;
    expect(kind("DATA", 550, "550 5.1.1 user unknown")).toBe("rejected_recipient");
    expect(kind("DATA", 554, "554 5.6.0 message content rejected")).toBe("permanent");
    expect(kind("MAIL FROM", 552, "552 5.3.4 message too big")).toBe("permanent");
    expect(kind("MAIL FROM", 550, "550 5.1.8 sender address rejected")).toBe("relay");
    expect(kind("AUTH PLAIN", 535, "535 5.7.8 authentication failed")).toBe("relay");
    expect(kind("RCPT TO", 550, "550 5.7.1 Client host rejected: blocked using a DNSBL")).toBe("relay");
    expect(kind("RCPT TO", 550, "550 5.1.1 mailbox unavailable")).toBe("rejected_recipient");
  });

  it("commits nothing when the caller's record before the end mark fails: the relay keeps no message", async () => {
    const mailer = createSmtpMailer(sink.url, opts);
    await expect(
      mailer.send(
        email("aborted@example.com", {
          beforeCommit: async () => {
            throw new Error("database gone");
          },
        }),
      ),
    ).rejects.toThrow();
    await mailer.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.to("aborted@example.com")).toHaveLength(0);
  });
});

describe("outbox mailer", () => {
  it("writes each email as an .eml file mailparser can read, and says where", async () => {
    const dir = mkdtempSync(join(tmpdir(), "daybreak-outbox-"));
    const mailer = createOutboxMailer(dir, opts);
    const sent = await mailer.send(email("outbox@example.com"));
    expect(readdirSync(dir)).toHaveLength(1);
    const parsed = await simpleParser(readFileSync(sent.location!));
    expect(parsed.to && "text" in parsed.to ? parsed.to.text : "").toBe("outbox@example.com");
    expect(parsed.text).toContain("https://news.example/a");
  });
});
