// Which addresses a webhook may reach: public unicast only (ipaddr.js's ranges), whatever
// form the address is written in.
import { describe, expect, it } from "vitest";
import { AddressRefused, checkWebhookUrl, nonPublicRange } from "../../src/net/public-address.ts";

describe("nonPublicRange", () => {
  it.each([
    ["93.184.215.14", null],
    ["8.8.8.8", null],
    ["2606:4700:4700::1111", null],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["192.168.0.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.1", "reserved"],
    ["240.0.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "linkLocal"],
    ["fc00::1", "uniqueLocal"],
    ["fd12:3456::1", "uniqueLocal"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "ipv4Mapped"],
    ["::7f00:1", "ipv4Compatible"],
    ["::a00:1", "ipv4Compatible"],
    ["::ffff:8.8.8.8", "ipv4Mapped"],
    ["2001:db8::1", "reserved"],
  ])("%s → %s", (address, range) => {
    expect(nonPublicRange(address)).toBe(range);
  });
});

describe("checkWebhookUrl", () => {
  const resolve = async (host: string) => {
    if (host === "two-faced.example.com")
      return [
        { address: "93.184.215.14", family: 4 as const },
        { address: "10.0.0.5", family: 4 as const },
      ];
    return [{ address: "93.184.215.14", family: 4 as const }];
  };
  const guarded = { allowPrivate: false, resolve };

  it("accepts http(s) URLs of public hosts", async () => {
    await expect(checkWebhookUrl("https://hooks.example.com/x?y=1", guarded)).resolves.toBeUndefined();
    await expect(checkWebhookUrl("http://93.184.215.14:8080/x", guarded)).resolves.toBeUndefined();
  });

  it.each([
    ["ftp://hooks.example.com/", "must be an http or https URL"],
    ["hooks.example.com/x", "must be an absolute http or https URL"],
    ["https://me:pw@hooks.example.com/", "must not hold credentials"],
    ["http://0x7f000001/", "address 127.0.0.1 is not public (loopback)"],
    ["http://[::ffff:7f00:1]/", "address ::ffff:7f00:1 is not public (ipv4Mapped)"],
    ["http://two-faced.example.com/", "address 10.0.0.5 is not public (private)"],
  ])("refuses %s: %s", async (url, reason) => {
    await expect(checkWebhookUrl(url, guarded)).rejects.toThrow(new AddressRefused(reason));
  });

  it("checks only the form with WEBHOOK_ALLOW_PRIVATE_URLS", async () => {
    await expect(checkWebhookUrl("http://127.0.0.1:9000/", { allowPrivate: true })).resolves.toBeUndefined();
    await expect(checkWebhookUrl("file:///etc/passwd", { allowPrivate: true })).rejects.toThrow(AddressRefused);
  });
});
