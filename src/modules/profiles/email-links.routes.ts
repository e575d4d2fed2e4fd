import { html } from "hono/html";
import type { Deps } from "../../deps.ts";
import { htmlPage, PAGE_HEADERS } from "../../lib/html-page.ts";
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
      return c.html(preferencesForm(current, token, errors), 400, PAGE_HEADERS);
    }
    const updated = await updateProfile(deps, id, parsed.data);
    return c.html(
      preferencesForm(
        updated,
        token,
        html`<p class="ok">Saved. Your next briefing follows these settings.</p>`,
      ),
      200,
      PAGE_HEADERS,
    );
  });
  return app;
}
