import { describe, expect, it } from "vitest";
import { useTestDeps } from "../../../test/deps.ts";
import { addSource, listSources, removeSource } from "./sources.service.ts";

const t = useTestDeps();

describe("adding a source", () => {
  it.each([
    "http://169.254.169.254/latest/meta-data",
    "http://127.0.0.1:8080/feed.xml",
    "http://[::1]/feed.xml",
    "http://10.0.0.7/rss",
    "http://localhost:3000/feed",
  ])("refuses %s, a private address literal, naming why", async (url) => {
    await expect(addSource(t.deps, { url })).rejects.toThrow(/is a loopback, private or link-local address/);
    expect((await listSources(t.deps)).some((s) => s.url === url)).toBe(false);
  });

  it("admits the same when private addresses are allowed, and public hostnames always", async () => {
    const allowing = { ...t.deps, config: { ...t.deps.config, FETCH_ALLOW_PRIVATE: true } };
    await expect(addSource(allowing, { url: "http://127.0.0.1:8080/feed.xml" })).resolves.toMatchObject({
      url: "http://127.0.0.1:8080/feed.xml",
    });
    await expect(addSource(t.deps, { url: "https://news.example.com/feed.xml" })).resolves.toBeTruthy();
  });
});

// The CLI (`daybreak sources add`) and the sample seeding call addSource without the route's
// validation: the same rules and the same stored form hold for them.
describe("adding a source without the HTTP route", () => {
  it("refuses credentials, broken text and unknown fields, naming the field", async () => {
    const refused = [
      [{ url: "https://user:pass@cli.example.com/feed.xml" }, "body.url"],
      [{ url: "https://cli.example.com/\ud800" }, "body.url"],
      [{ url: "https://cli.example.com/feed.xml", name: "a\u0000b" }, "body.name"],
      [{ url: "https://cli.example.com/feed.xml", language: "<b>xx</b>" }, "body.language"],
      [{ url: "not a url" }, "body.url"],
    ] as const;
    for (const [input, location] of refused) {
      await expect(addSource(t.deps, input)).rejects.toMatchObject({
        code: "VALIDATION",
        errors: [{ location }],
      });
    }
    expect((await listSources(t.deps)).some((s) => s.url.includes("cli.example.com"))).toBe(false);
  });

  it("stores the normal form, so another spelling of the same feed is a conflict", async () => {
    const added = await addSource(t.deps, { url: "HTTPS://Spelled.Example.com:443/feed.xml#top" });
    expect(added.url).toBe("https://spelled.example.com/feed.xml");
    await expect(addSource(t.deps, { url: "https://spelled.example.com/feed.xml" })).rejects.toMatchObject({
      code: "CONFLICT",
    });
  });

  it("keeps a sample feed's URL as it is, and normalizes only its scheme and fragment", async () => {
    await expect(
      addSource(t.deps, { url: "sample:harbor-ledger.rss", name: "Harbor" }),
    ).resolves.toMatchObject({
      url: "sample:harbor-ledger.rss",
      name: "Harbor",
    });
    await expect(addSource(t.deps, { url: "SAMPLE:harbor-ledger.rss#x" })).rejects.toMatchObject({
      code: "CONFLICT",
    });
  });

  it("removes a source by its URL spelled as it was added", async () => {
    await addSource(t.deps, { url: "https://Removable.Example.com/feed.xml#x" });
    await removeSource(t.deps, "HTTPS://removable.example.com:443/feed.xml");
    expect((await listSources(t.deps)).some((s) => s.url.includes("removable"))).toBe(false);
    await expect(removeSource(t.deps, "https://removable.example.com/feed.xml")).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});
