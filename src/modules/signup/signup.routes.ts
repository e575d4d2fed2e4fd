import type { Context } from "hono";
import { html, raw } from "hono/html";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../lib/errors.ts";
import { type AppEnv, createRouter } from "../../lib/http.ts";
import { subscriberInputSchema } from "../profiles/index.ts";
import { PAGE_CSP } from "../sharing/index.ts";
import { confirmSignup, requestSignup } from "./signup.service.ts";

const headers = { "content-security-policy": PAGE_CSP, "x-content-type-options": "nosniff" };

const STYLE = `
  :root { color-scheme: light dark; }
  body { margin: 0; font: 17px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; background: #f6f5f2; color: #1d232b; }
  main { max-width: 560px; margin: 0 auto; padding: 24px 20px 48px; }
  .brand { font-size: 13px; letter-spacing: 1px; text-transform: uppercase; color: #5b6470; }
  label { display: block; margin: 14px 0 4px; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: 10px; font-size: 16px; border: 1px solid #c9c6bf; border-radius: 8px; }
  button { margin-top: 20px; padding: 12px 20px; font-size: 16px; background: #1a5fb4; color: #fff; border: 0; border-radius: 8px; font-weight: 600; }
  .error { color: #a4262c; } .hint { color: #5b6470; font-size: 14px; }
  @media (prefers-color-scheme: dark) { body { background: #111418; color: #e6e9ee; } input { background: #1b2027; color: #e6e9ee; border-color: #39414c; } }`;

type Form = Record<string, string>;

function page(title: string, body: ReturnType<typeof html>) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Daybreak</title><style>${raw(STYLE)}</style></head><body><main><div class="brand">Daybreak</div>${body}</main></body></html>`;
}

function form(values: Form, errors: { location: string; message: string }[] = []) {
  const err = (field: string) => {
    const e = errors.find((x) => x.location === `body.${field}` || x.location.startsWith(`body.${field}.`));
    return e ? html`<div class="error">${e.message}</div>` : "";
  };
  const field = (name: string, label: string, type = "text", hint = "") =>
    html`<label for="${name}">${label}</label><input id="${name}" name="${name}" type="${type}" value="${values[name] ?? ""}">${hint ? html`<div class="hint">${hint}</div>` : ""}${err(name)}`;
  return page(
    "Get your own daily briefing",
    html`<h1>Get your own daily briefing</h1>
    <p>The few stories that matter to your role and industry, every morning, each point linked to its source.</p>
    <form method="post" action="/signup">
      ${field("email", "Email", "email")}
      ${field("role", "Your role", "text", "For example: Supply chain director")}
      ${field("industry", "Your industry", "text", "For example: Semiconductors")}
      ${field("interests", "Topics you follow", "text", "Separated by commas, e.g. export controls, AI regulation")}
      ${field("timezone", "Time zone", "text", "An IANA name such as Europe/London or America/New_York")}
      ${field("deliveryTime", "Delivery time", "time")}
      <button type="submit">Send my confirmation email</button>
    </form>`,
  );
}

function toInput(f: Form) {
  return {
    email: f.email?.trim() ?? "",
    role: f.role?.trim() ?? "",
    industry: f.industry?.trim() ?? "",
    interests: (f.interests ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    timezone: f.timezone?.trim() || "UTC",
    deliveryTime: f.deliveryTime?.trim() || "07:00",
  };
}

async function readForm(c: Context): Promise<Form> {
  const type = c.req.header("content-type") ?? "";
  if (type.includes("application/json")) return (await c.req.json()) as Form;
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
}

/** The sign-up funnel behind "Get your own daily briefing": form, double opt-in, first briefing. */
export function createSignupRoutes(deps: Deps) {
  const app = createRouter<AppEnv>();
  app.get("/signup", (c) => c.html(form({ timezone: "UTC", deliveryTime: "07:00" }), 200, headers));
  app.post("/signup", async (c) => {
    const values = await readForm(c);
    const parsed = subscriberInputSchema.safeParse(toInput(values));
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({
        location: ["body", ...i.path.map(String)].join("."),
        message: i.message,
      }));
      return c.html(form(values, errors), 400, headers);
    }
    await requestSignup(deps, parsed.data);
    return c.html(
      page(
        "Check your inbox",
        html`<h1>Check your inbox</h1><p>If ${parsed.data.email} can receive a new subscription, a confirmation link is on its way. Your first briefing follows your click.</p>`,
      ),
      200,
      headers,
    );
  });
  app.get("/signup/confirm/:code", async (c) => {
    try {
      const r = await confirmSignup(deps, c.req.param("code"));
      return c.html(
        page(
          "You're in",
          html`<h1>You're in</h1><p>Your subscription is confirmed. ${r.briefing ? "Your first briefing is ready and will be in your inbox shortly; after that, every morning at your chosen time." : "Your first briefing arrives at your chosen time."}</p>`,
        ),
        200,
        headers,
      );
    } catch (err) {
      if (err instanceof AppError && err.code === "NOT_FOUND") {
        return c.html(
          page(
            "Link not valid",
            html`<h1>This link is not valid</h1><p>${err.message}. <a href="/signup">Sign up again</a>.</p>`,
          ),
          404,
          headers,
        );
      }
      throw err;
    }
  });
  return app;
}
