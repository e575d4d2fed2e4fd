import { describe, expect, it } from "vitest";
import { useTestDeps } from "../../../test/deps.ts";
import { addSource, listSources } from "./sources.service.ts";

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
