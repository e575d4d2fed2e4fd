import { describe, expect, it } from "vitest";
import { isPrivateAddress, isPrivateHostLiteral, mayReachPrivately } from "./addresses.ts";

describe("isPrivateAddress", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:a9fe:a9fe",
    "::7f00:1",
    "64:ff9b::a9fe:a9fe",
    "2002:a00:1::",
    "fd00::1",
    "fe80::1",
    "ff02::1",
    "not-an-ip",
  ])("counts %s as private", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(["93.184.216.34", "8.8.8.8", "::ffff:8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"])(
    "counts %s as public",
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );
});

describe("isPrivateHostLiteral and mayReachPrivately", () => {
  it("knows a private host from its literal, before any lookup", () => {
    for (const h of ["localhost", "127.0.0.1", "[::1]", "169.254.169.254"])
      expect(isPrivateHostLiteral(h)).toBe(true);
    for (const h of ["news.example.com", "8.8.8.8"]) expect(isPrivateHostLiteral(h)).toBe(false);
  });

  it("admits a private host by the allow-list however its IPv6 brackets are written", () => {
    expect(mayReachPrivately("[::1]", { allowHosts: ["::1"] })).toBe(true);
    expect(mayReachPrivately("::1", { allowHosts: ["[::1]"] })).toBe(true);
    expect(mayReachPrivately("10.0.0.7", { allowHosts: ["::1"] })).toBe(false);
    expect(mayReachPrivately("10.0.0.7", { allowPrivate: true })).toBe(true);
  });
});
