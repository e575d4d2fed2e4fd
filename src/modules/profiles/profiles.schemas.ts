import { z } from "@hono/zod-openapi";
import { emailSchema, textField, uuidParam } from "../../lib/field-schemas.ts";
import { canonicalTimeZone } from "../../lib/time.ts";

/** An IANA zone, stored under its canonical name (the one PostgreSQL knows too). */
export const timezoneSchema = z
  .string()
  .trim()
  .transform((tz, ctx) => {
    const canonical = canonicalTimeZone(tz);
    if (canonical) return canonical;
    ctx.addIssue({ code: "custom", message: "must be an IANA time zone such as Europe/London" });
    return z.NEVER;
  })
  .openapi({ example: "Europe/London" });

export const deliveryTimeSchema = z
  .string()
  .trim()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time of day as HH:MM (24-hour)")
  .openapi({ example: "07:00" });

export const followedSchema = z.object({
  kind: z.enum(["company", "person", "country", "technology", "topic"]),
  name: textField(120),
});

/** How two entries are told apart: not by case, inner spacing or Unicode composition ("Café"). */
const sameEntry = (v: string) => v.normalize("NFC").toLowerCase().replace(/\s+/g, " ");

/** The first of each entry: ["AI", "ai"] would weigh AI twice in ranking. */
const firstOfEach =
  <T>(key: (v: T) => string) =>
  (list: T[]) => {
    const seen = new Set<string>();
    return list.filter((v) => {
      const k = key(v);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  };

/** A profile's list of text entries: at most `max`, each a one-line text field, kept once. */
const textList = (chars: number, max: number, message?: string) =>
  z.array(textField(chars)).max(max, message).overwrite(firstOfEach(sameEntry));

const profileFields = {
  name: textField(120).nullable().optional(),
  role: textField(120).openapi({ example: "Supply chain manager" }),
  industry: textField(120).openapi({ example: "Manufacturing" }),
  interests: textList(120, 50, "at most 50 interests").optional(),
  // One entry per kind and name: "Huawei", "huawei" and "HUAWEI" followed read "You follow huawei
  // · HUAWEI" (Jordan the person and Jordan the country are two).
  followed: z
    .array(followedSchema)
    .max(100)
    .overwrite(firstOfEach((f: z.infer<typeof followedSchema>) => `${f.kind}:${sameEntry(f.name)}`))
    .optional(),
  mutedTopics: textList(120, 100).optional(),
  mutedSources: textList(200, 100).optional(),
  region: textField(80).nullable().optional(),
  language: z
    .string()
    .regex(/^[a-z]{2}(-[A-Za-z]{2,4})?$/, "must be a language code such as en")
    .optional(),
  timezone: timezoneSchema,
  deliveryTime: deliveryTimeSchema,
  briefingLength: z
    .number()
    .int("must be a whole number")
    .min(3, "must be 3 to 12")
    .max(12, "must be 3 to 12")
    .optional(),
};

export const subscriberInputSchema = z
  .object({ email: emailSchema, ...profileFields })
  .strict()
  .openapi("SubscriberInput");
export type SubscriberInput = z.infer<typeof subscriberInputSchema>;

export const profilePatchSchema = z
  .object({ ...profileFields, paused: z.boolean().optional() })
  .partial()
  .strict()
  .openapi("ProfilePatch");
export type ProfilePatch = z.infer<typeof profilePatchSchema>;

export const profileSchema = z
  .object({
    id: z.string().uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.string(),
    industry: z.string(),
    interests: z.array(z.string()),
    followed: z.array(followedSchema),
    mutedTopics: z.array(z.string()),
    mutedSources: z.array(z.string()),
    region: z.string().nullable(),
    language: z.string(),
    timezone: z.string(),
    deliveryTime: z.string(),
    briefingLength: z.number().int(),
    status: z.string(),
    createdAt: z.string(),
  })
  .openapi("Profile");

export const createdSubscriberSchema = profileSchema
  .extend({ token: z.string().openapi({ description: "Bearer token for the app; shown once." }) })
  .openapi("CreatedSubscriber");

export const tokenListSchema = z
  .object({
    tokens: z.array(
      z.object({
        id: z.string().uuid(),
        label: z.string().openapi({ description: "default, app (magic-link sign-in), or a device name" }),
        createdAt: z.string(),
        lastUsedAt: z.string().nullable().openapi({ description: "To the minute" }),
        current: z.boolean().openapi({ description: "The token this request was made with" }),
      }),
    ),
  })
  .openapi("TokenList");

export const tokenIdParamSchema = z.object({ id: uuidParam() });
