import { html, raw } from "hono/html";
import type { Deps } from "../../deps.ts";
import { type AppEnv, createRouter } from "../../lib/http.ts";
import { type LinkPurpose, readLinkToken } from "./link-tokens.ts";
import { profilePatchSchema } from "./profiles.schemas.ts";
import { getSubscriber, type Subscriber, unsubscribe, updateProfile } from "./profiles.service.ts";

const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const headers = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};
const STYLE = `body{margin:0;font:17px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#f6f5f2;color:#1d232b}
main{max-width:560px;margin:0 auto;padding:24px 20px 48px}.brand{font-size:13px;letter-spacing:1px;text-transform:uppercase;color:#5b6470}
label{display:block;margin:14px 0 4px;font-weight:600}input,select{width:100%;box-sizing:border-box;padding:10px;font-size:16px;border:1px solid #c9c6bf;border-radius:8px}
button{margin-top:20px;padding:12px 20px;font-size:16px;background:#1a5fb4;color:#fff;border:0;border-radius:8px;font-weight:600}.error{color:#a4262c}.ok{color:#1e6b34}
@media (prefers-color-scheme: dark){body{background:#111418;color:#e6e9ee}input,select{background:#1b2027;color:#e6e9ee;border-color:#39414c}}`;

const page = (title: string, body: unknown) =>
  html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Daybreak</title><style>${raw(STYLE)}</style></head><body><main><div class="brand">Daybreak</div>${body}</main></body></html>`;

const invalid = () =>
  page(
    "Link not valid",
    html`<h1>This link is not valid</h1><p>Use the link from your most recent Daybreak email.</p>`,
  );

function preferencesForm(s: Subscriber, token: string, note?: unknown) {
  const v = (x: string | number | null) => (x === null ? "" : String(x));
  return page(
    "Preferences",
    html`<h1>Your briefing</h1>${note ?? ""}
    <form method="post" action="/preferences/${token}">
      <label for="role">Role</label><input id="role" name="role" value="${s.role}">
      <label for="industry">Industry</label><input id="industry" name="industry" value="${s.industry}">
      <label for="interests">Topics you follow (comma separated)</label><input id="interests" name="interests" value="${s.interests.join(", ")}">
      <label for="deliveryTime">Delivery time</label><input id="deliveryTime" name="deliveryTime" type="time" value="${s.deliveryTime}">
      <label for="timezone">Time zone</label><input id="timezone" name="timezone" value="${s.timezone}">
      <label for="briefingLength">Stories per briefing (3 to 12)</label><input id="briefingLength" name="briefingLength" type="number" min="3" max="12" value="${v(s.briefingLength)}">
      <label for="paused">Deliveries</label><select id="paused" name="paused"><option value="false" ${s.status === "paused" ? "" : "selected"}>Active</option><option value="true" ${s.status === "paused" ? "selected" : ""}>Paused</option></select>
      <button type="submit">Save</button>
    </form>`,
  );
}

/** Pages reached from signed links in every email: one-click unsubscribe (RFC 8058) and preferences. */
export function createEmailLinkRoutes(deps: Deps) {
  const app = createRouter<AppEnv>();
  const who = (purpose: LinkPurpose, token: string) => readLinkToken(deps.config.linkSecret, purpose, token);

  app.get("/unsubscribe/:token", (c) => {
    const token = c.req.param("token");
    if (!who("unsubscribe", token)) return c.html(invalid(), 404, headers);
    return c.html(
      page(
        "Unsubscribe",
        html`<h1>Unsubscribe from Daybreak?</h1><p>You will get no more briefings.</p><form method="post" action="/unsubscribe/${token}"><button type="submit">Unsubscribe</button></form>`,
      ),
      200,
      headers,
    );
  });
  // RFC 8058: mail clients POST "List-Unsubscribe=One-Click" here with no cookies and no confirmation.
  app.post("/unsubscribe/:token", async (c) => {
    const id = who("unsubscribe", c.req.param("token"));
    if (!id) return c.html(invalid(), 404, headers);
    await unsubscribe(deps, id);
    return c.html(
      page("Unsubscribed", html`<h1>You are unsubscribed</h1><p>No more briefings will be sent.</p>`),
      200,
      headers,
    );
  });

  app.get("/preferences/:token", async (c) => {
    const token = c.req.param("token");
    const id = who("preferences", token);
    if (!id) return c.html(invalid(), 404, headers);
    return c.html(preferencesForm(await getSubscriber(deps, id), token), 200, headers);
  });
  app.post("/preferences/:token", async (c) => {
    const token = c.req.param("token");
    const id = who("preferences", token);
    if (!id) return c.html(invalid(), 404, headers);
    const f = Object.fromEntries(Object.entries(await c.req.parseBody()).map(([k, v]) => [k, String(v)]));
    const parsed = profilePatchSchema.safeParse({
      role: f.role?.trim() || undefined,
      industry: f.industry?.trim() || undefined,
      interests:
        f.interests === undefined
          ? undefined
          : f.interests
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
      deliveryTime: f.deliveryTime?.trim() || undefined,
      timezone: f.timezone?.trim() || undefined,
      briefingLength: f.briefingLength ? Number(f.briefingLength) : undefined,
      paused: f.paused === undefined ? undefined : f.paused === "true",
    });
    const current = await getSubscriber(deps, id);
    if (!parsed.success) {
      const errors = parsed.error.issues.map(
        (i) => html`<p class="error">${i.path.join(".")}: ${i.message}</p>`,
      );
      return c.html(preferencesForm(current, token, errors), 400, headers);
    }
    const updated = await updateProfile(deps, id, parsed.data);
    return c.html(
      preferencesForm(
        updated,
        token,
        html`<p class="ok">Saved. Your next briefing follows these settings.</p>`,
      ),
      200,
      headers,
    );
  });
  return app;
}
