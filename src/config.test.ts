import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

describe("loadConfig", () => {
  it("gives embedded defaults when nothing is set", () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.sampleData).toBe(true);
    expect(c.publicBaseUrl).toBe("http://localhost:3000");
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ PORT: "", SMTP_URL: "" }).SMTP_URL).toBeUndefined();
  });

  it("names every bad variable and what is wrong with it", () => {
    const bad = () => loadConfig({ PORT: "abc", DATABASE_URL: "mysql://db", ADMIN_TOKEN: "short" });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/PORT="abc" must be a number/);
    expect(bad).toThrow(/DATABASE_URL="mysql:\/\/db" must use postgres: or postgresql:/);
    expect(bad).toThrow(/ADMIN_TOKEN must be at least 16 characters/);
    expect(bad).not.toThrow(/short/);
  });

  it("refuses an admin token with spaces, which no bearer header could carry", () => {
    expect(() => loadConfig({ ADMIN_TOKEN: "correct horse battery staple" })).toThrow(
      /ADMIN_TOKEN must have no spaces/,
    );
    expect(loadConfig({ ADMIN_TOKEN: "a-long-enough-admin-token\n" }).ADMIN_TOKEN).toBe(
      "a-long-enough-admin-token",
    );
  });

  it("names a URL variable that holds no URL at all", () => {
    expect(() => loadConfig({ PUBLIC_BASE_URL: "notaurl" })).toThrow(
      /PUBLIC_BASE_URL="notaurl" must be an absolute URL/,
    );
    expect(() => loadConfig({ OPENAI_BASE_URL: "notaurl" })).toThrow(/OPENAI_BASE_URL/);
  });

  it("never echoes a password in a bad URL", () => {
    expect(() => loadConfig({ SMTP_URL: "http://u:hunter2@mail" })).toThrow(
      /SMTP_URL="http:\/\/u:\*\*\*@mail" must use smtp: or smtps:/,
    );
  });

  it("rejects a port out of range", () => {
    expect(() => loadConfig({ PORT: "70000" })).toThrow(/PORT="70000" must be between 1 and 65535/);
  });
});
