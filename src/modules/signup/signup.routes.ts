import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { html } from "hono/html";
import type { Deps } from "../../deps.ts";
import { AppError, type FieldError, fieldErrors } from "../../lib/errors.ts";
import { INVALID_TEXT, isFormText, readForm } from "../../lib/form.ts";
import { htmlAnswer, htmlPage, PAGE_HEADERS, pageHeadersWithScript } from "../../lib/html-page.ts";
import { type AppEnv, createRouter, isJsonType, requestHeader } from "../../lib/http.ts";
import { subscriberInputSchema } from "../profiles/index.ts";
import { confirmSignup, requestSignup } from "./signup.service.ts";

type Form = Record<string, string>;

const page = (title: string, body: unknown) => htmlPage(title, body);

// The time zone field starts as UTC; where scripts run, the browser's own zone replaces it (still
// editable). Without script the reader types it, as before.
const GUESS_TIMEZONE = `(function(){var f=document.getElementById("timezone");if(!f||!f.hasAttribute("data-guess"))return;try{var z=Intl.DateTimeFormat().resolvedOptions().timeZone;if(z)f.value=z}catch(e){}})();`;
const FORM_HEADERS = pageHeadersWithScript(GUESS_TIMEZONE);

function form(values: Form, errors: { location: string; message: string }[] = [], guessTimezone = false) {
  const errorOf = (field: string) =>
    errors.find((x) => x.location === `body.${field}` || x.location.startsWith(`body.${field}.`));
  // Hints and errors are tied to their field (aria-describedby), so a screen reader reads them with it.
  const field = (name: string, label: string, type = "text", hint = "", extra: unknown = "") => {
    const e = errorOf(name);
    const describedBy = [hint ? `${name}-hint` : "", e ? `${name}-error` : ""].filter(Boolean).join(" ");
    return html`<label for="${name}">${label}</label><input id="${name}" name="${name}" type="${type}" value="${values[name] ?? ""}"${describedBy ? html` aria-describedby="${describedBy}"` : ""}${e ? html` aria-invalid="true"` : ""}${extra}>${hint ? html`<div class="hint" id="${name}-hint">${hint}</div>` : ""}${e ? html`<div class="error" id="${name}-error">${e.message}</div>` : ""}`;
  };
  return htmlPage(
    "Get your own daily briefing",
    html`<h1>Get your own daily briefing</h1>
    <p>The few stories that matter to your role and industry, every morning, each point linked to its source.</p>
    <form method="post" action="/signup">
      ${field("email", "Email", "email", "", html` required autocomplete="email"`)}
      ${field("role", "Your role", "text", "For example: Supply chain director", html` required autocomplete="organization-title"`)}
      ${field("industry", "Your industry", "text", "For example: Semiconductors", html` required`)}
      ${field("interests", "Topics you follow", "text", "Separated by commas, e.g. export controls, AI regulation")}
      ${field("timezone", "Time zone", "text", "An IANA name such as Europe/London or America/New_York", guessTimezone ? html` data-guess` : "")}
      ${field("deliveryTime", "Delivery time", "time")}
      <button type="submit">Send my confirmation email</button>
    </form>`,
    { script: GUESS_TIMEZONE },
  );
}

function toInput(values: Form, interests: string[]) {
  return {
    email: values.email?.trim() ?? "",
    role: values.role?.trim() ?? "",
    industry: values.industry?.trim() ?? "",
    interests,
    timezone: values.timezone?.trim() || "UTC",
    deliveryTime: values.deliveryTime?.trim() || "07:00",
  };
}

/** The body as sent: a form post, or a JSON object with the form's fields. */
async function readBody(c: Context): Promise<Record<string, unknown>> {
  const type = requestHeader(c, "content-type") ?? "";
  if (!isJsonType(type)) {
    const fields = await readForm(c);
    // A repeated field counts by its last value, as a browser's form never repeats one; interests
    // keep every value.
    return Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [k, Array.isArray(v) && k !== "interests" ? v.at(-1) : v]),
    );
  }
  const body: unknown = await c.req.json();
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError("VALIDATION", "the request body must be a JSON object of the form's fields", [
      { location: "body", message: "must be an object" },
    ]);
  }
  return body as Record<string, unknown>;
}

const TEXT_FIELDS = ["email", "role", "industry", "timezone", "deliveryTime"] as const;
const VALID_TEXT = "must be valid text";

/**
 * The fields as text (what the form shows back), the interests, and the fields that were not text
 * at all (a JSON number, an uploaded file) or not text PostgreSQL can store as sent (a NUL, an
 * unpaired surrogate, an escape that does not decode): those are named like any other bad field
 * and shown back empty. A missing or null field is left to the schema, as an empty form field is.
 */
function readFields(body: Record<string, unknown>) {
  const values: Form = {};
  const notText: FieldError[] = [];
  const invalid = (x: unknown) => x === INVALID_TEXT || (typeof x === "string" && !isFormText(x));
  for (const name of TEXT_FIELDS) {
    const value = body[name];
    if (invalid(value)) notText.push({ location: `body.${name}`, message: VALID_TEXT });
    else if (typeof value === "string") values[name] = value;
    else if (value != null) notText.push({ location: `body.${name}`, message: "must be text" });
  }
  // The form's one field is split on commas; a list (JSON, a repeated field) is taken item by item.
  const raw = body.interests ?? [];
  const list = typeof raw === "string" ? raw.split(",") : Array.isArray(raw) ? raw : [raw];
  let interests: string[] = [];
  if (list.some(invalid)) {
    notText.push({ location: "body.interests", message: VALID_TEXT });
  } else if (list.every((x): x is string => typeof x === "string")) {
    interests = list.map((s) => s.trim()).filter(Boolean);
    values.interests = typeof raw === "string" ? raw : interests.join(", ");
  } else {
    notText.push({ location: "body.interests", message: "must be text or a list of text" });
  }
  return { values, interests, notText };
}

/** The sign-up funnel behind "Get your own daily briefing": form, double opt-in, first briefing. */
export function createSignupRoutes(deps: Deps) {
  const app = createRouter<AppEnv>();
  // Pages, not API: documented here, validated by the handlers, which re-show the form on errors.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/signup",
    tags: ["public"],
    summary: "The sign-up form (no script)",
    responses: { 200: htmlAnswer("The form") },
  });
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/signup",
    tags: ["public"],
    summary: "Sign up: sends a double opt-in email; the same answer whether or not the address is known",
    request: {
      body: {
        content: {
          "application/x-www-form-urlencoded": {
            schema: z.object({
              email: z.string(),
              role: z.string(),
              industry: z.string(),
              interests: z.string().optional().openapi({ description: "Comma separated" }),
              timezone: z.string().optional().openapi({ description: "IANA zone; UTC when empty" }),
              deliveryTime: z.string().optional().openapi({ description: "HH:MM; 07:00 when empty" }),
            }),
          },
        },
      },
    },
    responses: {
      200: htmlAnswer("Check your inbox"),
      400: htmlAnswer("The form again, naming each bad field"),
    },
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/signup/confirm/{code}",
    tags: ["public"],
    summary: "Confirms the subscription and builds the first briefing; followed again, says it is confirmed",
    request: { params: z.object({ code: z.string().openapi({ param: { name: "code", in: "path" } }) }) },
    responses: { 200: htmlAnswer("Confirmed"), 404: htmlAnswer("Expired or unknown link") },
  });
  app.get("/signup", (c) =>
    c.html(form({ timezone: "UTC", deliveryTime: "07:00" }, [], true), 200, FORM_HEADERS),
  );
  app.post("/signup", async (c) => {
    const { values, interests, notText } = readFields(await readBody(c));
    const parsed = subscriberInputSchema.safeParse(toInput(values, interests));
    if (!parsed.success || notText.length > 0) {
      // A field that was not text is named for that alone, not also for the blank that stood in.
      const named = new Set(notText.map((e) => e.location));
      const errors = [
        ...notText,
        ...fieldErrors(parsed.error?.issues ?? [], "body").filter(
          (e) => !named.has(e.location.split(".").slice(0, 2).join(".")),
        ),
      ];
      return c.html(form(values, errors), 400, FORM_HEADERS);
    }
    await requestSignup(deps, parsed.data);
    return c.html(
      page(
        "Check your inbox",
        html`<h1>Check your inbox</h1><p>If ${parsed.data.email} can receive a new subscription, a confirmation link is on its way. Your first briefing follows your click.</p>`,
      ),
      200,
      PAGE_HEADERS,
    );
  });
  app.get("/signup/confirm/:code", async (c) => {
    try {
      const r = await confirmSignup(deps, c.req.param("code"));
      const next = r.alreadyConfirmed
        ? "It was confirmed already: your briefings arrive every day at your chosen time."
        : r.briefing
          ? "Your first briefing is ready and will be in your inbox shortly; after that, every day at your chosen time."
          : "Your first briefing arrives at your chosen time.";
      return c.html(
        page("You're in", html`<h1>You're in</h1><p>Your subscription is confirmed. ${next}</p>`),
        200,
        PAGE_HEADERS,
      );
    } catch (err) {
      if (err instanceof AppError && err.code === "NOT_FOUND") {
        return c.html(
          page(
            "Link not valid",
            html`<h1>This link is not valid</h1><p>${err.message}. <a href="/signup">Sign up again</a>.</p>`,
          ),
          404,
          PAGE_HEADERS,
        );
      }
      throw err;
    }
  });
  return app;
}
