import type { Context } from "hono";
import { html } from "hono/html";
import type { Deps } from "../../deps.ts";
import type { FieldError } from "../../lib/errors.ts";
import { INVALID_TEXT, isFormPost, isFormText, readForm } from "../../lib/form.ts";
import { documentLinkPage, htmlPage, PAGE_HEADERS } from "../../lib/html-page.ts";
import { type AppEnv, createRouter } from "../../lib/http.ts";
import { type LinkPurpose, readLinkToken } from "./link-tokens.ts";
import { profilePatchSchema } from "./profiles.schemas.ts";
import { getSubscriber, type Subscriber, unsubscribe, updateProfile } from "./profiles.service.ts";

const page = (title: string, body: unknown) => htmlPage(title, body);

const invalid = () =>
  page(
    "Link not valid",
    html`<h1>This link is not valid</h1><p>Use the link from your most recent Daybreak email.</p>`,
  );

/** Whether briefings go out, as the page says it; pausing applies only to active and paused. */
function deliveries(s: Subscriber) {
  switch (s.status) {
    case "active":
    case "paused":
      return html`<select id="paused" name="paused"><option value="false" ${s.status === "paused" ? "" : "selected"}>Active</option><option value="true" ${s.status === "paused" ? "selected" : ""}>Paused</option></select>`;
    case "unsubscribed":
      return html`<p id="paused">Stopped: you are unsubscribed.</p>`;
    case "bounced":
      return html`<p id="paused">Stopped: emails to ${s.email} bounced.</p>`;
    default:
      return html`<p id="paused">Not started: your subscription is not confirmed yet.</p>`;
  }
}

/** What saving means for the next briefing, true for each status. */
function savedNote(s: Subscriber) {
  switch (s.status) {
    case "active":
      return "Saved. Your next briefing follows these settings.";
    case "paused":
      return "Saved. Deliveries are paused: no briefing is sent until you set Deliveries to Active.";
    case "unsubscribed":
      return "Saved, but you are unsubscribed, so no briefing is sent.";
    case "bounced":
      return `Saved, but no briefing is sent: emails to ${s.email} bounced.`;
    default:
      return "Saved. Your first briefing follows these settings once you confirm your subscription with the link we emailed you.";
  }
}

/** A text area's height for a list: one line each and one to spare, 3 to 12. */
const rows = (list: string[]) => Math.min(12, Math.max(3, list.length + 1));

function preferencesForm(s: Subscriber, token: string, note?: unknown) {
  const v = (x: string | number | null) => (x === null ? "" : String(x));
  return page(
    "Preferences",
    html`<h1>Your briefing</h1>${note ?? ""}
    <form method="post" action="/preferences/${token}">
      <label for="role">Role</label><input id="role" name="role" value="${s.role}">
      <label for="industry">Industry</label><input id="industry" name="industry" value="${s.industry}">
      <label for="interests">Topics you follow (one per line)</label><textarea id="interests" name="interests" rows="${rows(s.interests)}">${s.interests.join("\n")}</textarea>
      <label for="mutedTopics">Topics you muted (one per line)</label><textarea id="mutedTopics" name="mutedTopics" rows="${rows(s.mutedTopics)}">${s.mutedTopics.join("\n")}</textarea>
      <label for="mutedSources">Outlets you muted, by name or web address (one per line; "Hide this outlet" in an email adds here)</label><textarea id="mutedSources" name="mutedSources" rows="${rows(s.mutedSources)}">${s.mutedSources.join("\n")}</textarea>
      <label for="deliveryTime">Delivery time</label><input id="deliveryTime" name="deliveryTime" type="time" value="${s.deliveryTime}">
      <label for="timezone">Time zone</label><input id="timezone" name="timezone" value="${s.timezone}">
      <label for="briefingLength">Stories per briefing (3 to 12)</label><input id="briefingLength" name="briefingLength" type="number" min="3" max="12" value="${v(s.briefingLength)}">
      <label for="paused">Deliveries</label>${deliveries(s)}
      <button type="submit">Save</button>
    </form>`,
  );
}

const PREFERENCE_FIELDS = [
  "role",
  "industry",
  "interests",
  "mutedTopics",
  "mutedSources",
  "deliveryTime",
  "timezone",
  "briefingLength",
  "paused",
] as const;

/**
 * The preferences form, read strictly: text that does not decode or cannot be stored, a length
 * that is not decimal digits, a Deliveries value the page's select does not send, each named.
 * Number() took "0x5", " 5 ", "5.0" and "1e1"; a paused value other than "true" read as active.
 */
const lines = (text: string | undefined) =>
  text
    ?.split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);

async function readPreferences(c: Context) {
  const form = await readForm(c);
  const errors: FieldError[] = [];
  const f: Partial<Record<(typeof PREFERENCE_FIELDS)[number], string>> = {};
  for (const name of PREFERENCE_FIELDS) {
    const sent = form[name];
    // A repeated field counts by its last value, as a browser's form never repeats one.
    const value = Array.isArray(sent) ? sent.at(-1) : sent;
    if (value === undefined) continue;
    if (isFormText(value)) f[name] = value;
    else {
      const message =
        value === INVALID_TEXT || typeof value === "string" ? "must be valid text" : "must be text";
      errors.push({ location: name, message });
    }
  }
  // Only what the page sends: digits from its number field, "true" or "false" from its select.
  let briefingLength: number | undefined;
  if (f.briefingLength && /^[0-9]{1,2}$/.test(f.briefingLength)) briefingLength = Number(f.briefingLength);
  else if (f.briefingLength)
    errors.push({ location: "briefingLength", message: "must be a whole number from 3 to 12" });
  let paused: boolean | undefined;
  if (f.paused === "true" || f.paused === "false") paused = f.paused === "true";
  else if (f.paused !== undefined)
    errors.push({ location: "paused", message: 'must be "true" (paused) or "false" (active)' });
  const parsed = profilePatchSchema.safeParse({
    role: f.role?.trim() || undefined,
    industry: f.industry?.trim() || undefined,
    // One per line: an interest may hold a comma ("Mergers, acquisitions"), and the page sent
    // back unchanged must store what it showed. An emptied area clears its list.
    interests: lines(f.interests),
    mutedTopics: lines(f.mutedTopics),
    mutedSources: lines(f.mutedSources),
    deliveryTime: f.deliveryTime?.trim() || undefined,
    timezone: f.timezone?.trim() || undefined,
    briefingLength,
    paused,
  });
  // A field already named (not text, not digits) is named for that alone.
  const named = new Set(errors.map((e) => e.location));
  for (const i of parsed.error?.issues ?? []) {
    const location = i.path.join(".");
    if (!named.has(String(i.path[0]))) errors.push({ location, message: i.message });
  }
  return { errors, patch: parsed.success && errors.length === 0 ? parsed.data : null };
}

/** Pages reached from signed links in every email: one-click unsubscribe (RFC 8058) and preferences. */
export function createEmailLinkRoutes(deps: Deps) {
  const app = createRouter<AppEnv>();
  const who = (purpose: LinkPurpose, token: string) => readLinkToken(deps.config.linkSecret, purpose, token);

  const invalidLink = "A tampered, unknown or other route's link";
  const doc = (method: "get" | "post", path: string, summary: string, answers: Record<number, string>) =>
    documentLinkPage(app, method, path, summary, { ...answers, 404: invalidLink });
  doc("get", "/unsubscribe/{token}", "Unsubscribe link from every email: a page asking to confirm", {
    200: "The button",
  });
  doc(
    "post",
    "/unsubscribe/{token}",
    "Unsubscribes (RFC 8058 one-click: mail clients post List-Unsubscribe=One-Click)",
    {
      200: "Unsubscribed",
    },
  );
  doc("get", "/preferences/{token}", "Preferences link from every email: the profile as a form", {
    200: "The form",
  });
  doc("post", "/preferences/{token}", "Saves the preferences form (urlencoded or multipart)", {
    200: "Saved",
    400: "The form again, each bad field named; nothing saved",
    415: "The form again: the body was not a form",
  });

  app.get("/unsubscribe/:token", (c) => {
    const token = c.req.param("token");
    if (!who("unsubscribe", token)) return c.html(invalid(), 404, PAGE_HEADERS);
    return c.html(
      page(
        "Unsubscribe",
        html`<h1>Unsubscribe from Daybreak?</h1><p>You will get no more briefings.</p><form method="post" action="/unsubscribe/${token}"><button type="submit">Unsubscribe</button></form>`,
      ),
      200,
      PAGE_HEADERS,
    );
  });
  // RFC 8058: mail clients POST "List-Unsubscribe=One-Click" here with no cookies and no confirmation.
  app.post("/unsubscribe/:token", async (c) => {
    const id = who("unsubscribe", c.req.param("token"));
    if (!id) return c.html(invalid(), 404, PAGE_HEADERS);
    await unsubscribe(deps, id);
    return c.html(
      page("Unsubscribed", html`<h1>You are unsubscribed</h1><p>No more briefings will be sent.</p>`),
      200,
      PAGE_HEADERS,
    );
  });

  app.get("/preferences/:token", async (c) => {
    const token = c.req.param("token");
    const id = who("preferences", token);
    if (!id) return c.html(invalid(), 404, PAGE_HEADERS);
    return c.html(preferencesForm(await getSubscriber(deps, id), token), 200, PAGE_HEADERS);
  });
  app.post("/preferences/:token", async (c) => {
    const token = c.req.param("token");
    const id = who("preferences", token);
    if (!id) return c.html(invalid(), 404, PAGE_HEADERS);
    // Any other body would read as no fields and answer "saved" having changed nothing.
    if (!isFormPost(c)) {
      const note = html`<p class="error">body: must be the form as a browser sends it (application/x-www-form-urlencoded or multipart/form-data)</p>`;
      return c.html(preferencesForm(await getSubscriber(deps, id), token, note), 415, PAGE_HEADERS);
    }
    const read = await readPreferences(c);
    if (read.patch === null) {
      const errors = read.errors.map((e) => html`<p class="error">${e.location}: ${e.message}</p>`);
      return c.html(preferencesForm(await getSubscriber(deps, id), token, errors), 400, PAGE_HEADERS);
    }
    const updated = await updateProfile(deps, id, read.patch);
    return c.html(
      preferencesForm(updated, token, html`<p class="ok">${savedNote(updated)}</p>`),
      200,
      PAGE_HEADERS,
    );
  });
  return app;
}
