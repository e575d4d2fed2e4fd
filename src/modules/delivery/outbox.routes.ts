import type { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import { html } from "hono/html";
import type { Deps } from "../../deps.ts";
import type { Outbox } from "../../integrations/mail/mailer.ts";
import { htmlPage, PAGE_CSP, PAGE_HEADERS } from "../../lib/html-page.ts";
import { type AppEnv, createRouter, problem } from "../../lib/http.ts";

// The preview page frames the email from this server; nothing else changes from the page policy.
const PREVIEW_HEADERS = {
  ...PAGE_HEADERS,
  "content-security-policy": PAGE_CSP.replace("default-src 'none'", "default-src 'none'; frame-src 'self'"),
};
// The email's HTML runs with no script, no network and no navigation of the page around it.
const EMAIL_HEADERS = {
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const STYLE = `
  main { max-width: 980px; }
  table { width: 100%; border-collapse: collapse; font-size: 15px; }
  th, td { text-align: left; padding: 8px 6px; border-bottom: 1px solid #d8d5ce; vertical-align: top; }
  td.when { white-space: nowrap; color: #5b6470; }
  td { overflow-wrap: anywhere; }
  iframe { width: 100%; height: 70vh; border: 1px solid #c9c6bf; border-radius: 8px; background: #fff; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 14px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; } dd { margin: 0; overflow-wrap: anywhere; }
  @media (max-width: 600px) { th.when, td.when { display: none; } }`;

const notFound = () =>
  htmlPage(
    "Not in the outbox",
    html`<h1>No such email</h1><p><a href="/dev/outbox">Back to the outbox</a></p>`,
  );

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * Whether a request comes from this machine itself: over the loopback interface and not relayed
 * by a proxy (which would connect from loopback on behalf of anyone). A request made inside the
 * process (no socket: tests, `app.request`) is local too.
 */
function fromThisMachine(c: Context): boolean {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return true;
  const relayed = c.req.header("x-forwarded-for") ?? c.req.header("forwarded") ?? c.req.header("x-real-ip");
  return LOOPBACK.has(incoming.socket.remoteAddress ?? "") && relayed === undefined;
}

/**
 * /dev/outbox: the emails Daybreak would have sent, when no SMTP relay is configured. Mounted
 * only for the outbox mailer; with SMTP_URL set these routes do not exist. Served to this machine
 * alone: the outbox holds sign-in codes and confirmation links, so anyone else reading it could
 * sign in as any subscriber.
 */
export function createOutboxRoutes(deps: Pick<Deps, "mailer">) {
  const app = createRouter<AppEnv>();
  const outbox: Outbox | undefined = deps.mailer.outbox;
  if (!outbox) return app;

  const localOnly: MiddlewareHandler = async (c, next) => {
    // Answered as any unknown path is: nothing says an outbox exists.
    if (!fromThisMachine(c)) return problem(c, 404, `no route for ${c.req.method} ${c.req.path}`);
    await next();
  };
  // "/dev/outbox/*" matches "/dev/outbox" itself too.
  app.use("/dev/outbox/*", localOnly);

  app.get("/dev/outbox", async (c) => {
    const entries = await outbox.list();
    const rows = entries.map(
      (e) =>
        html`<tr><td class="when">${e.date.replace("T", " ").slice(0, 19)}</td><td>${e.to}</td><td><a href="/dev/outbox/${e.name}">${e.subject || "(no subject)"}</a></td></tr>`,
    );
    return c.html(
      htmlPage(
        "Outbox",
        html`<h1>Outbox</h1>
        <p class="hint">No SMTP relay is configured (SMTP_URL), so emails are written to ${outbox.dir}. Newest first.</p>
        ${
          entries.length
            ? html`<table><thead><tr><th class="when">Written (UTC)</th><th>To</th><th>Subject</th></tr></thead><tbody>${rows}</tbody></table>`
            : html`<p>The outbox is empty.</p>`
        }`,
        { style: STYLE },
      ),
      200,
      PAGE_HEADERS,
    );
  });

  app.get("/dev/outbox/:name", async (c) => {
    const name = c.req.param("name");
    const m = await outbox.read(name);
    if (!m) return c.html(notFound(), 404, PAGE_HEADERS);
    return c.html(
      htmlPage(
        m.subject || "Email",
        html`<p><a href="/dev/outbox">← Outbox</a></p>
        <h1>${m.subject}</h1>
        <dl><dt>To</dt><dd>${m.to}</dd><dt>Date</dt><dd>${m.date}</dd><dt>Message-ID</dt><dd>${m.messageId}</dd></dl>
        ${
          m.html !== undefined
            ? html`<h2>HTML part</h2><iframe title="HTML part" sandbox src="/dev/outbox/${name}/html"></iframe>`
            : ""
        }
        ${m.text !== undefined ? html`<h2>Text part</h2><pre>${m.text}</pre>` : ""}
        <p><a href="/dev/outbox/${name}/raw">The message as sent (.eml)</a></p>`,
        { style: STYLE },
      ),
      200,
      PREVIEW_HEADERS,
    );
  });

  app.get("/dev/outbox/:name/html", async (c) => {
    const m = await outbox.read(c.req.param("name"));
    if (!m || m.html === undefined) return c.html(notFound(), 404, PAGE_HEADERS);
    return c.html(m.html, 200, EMAIL_HEADERS);
  });

  app.get("/dev/outbox/:name/raw", async (c) => {
    const m = await outbox.read(c.req.param("name"));
    if (!m) return c.html(notFound(), 404, PAGE_HEADERS);
    return c.body(m.raw, 200, { ...EMAIL_HEADERS, "content-type": "text/plain; charset=utf-8" });
  });
  return app;
}
