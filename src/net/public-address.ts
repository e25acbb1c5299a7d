// Where a webhook may be sent (docs/security.md, "Webhooks"): an http(s) URL without
// credentials whose host resolves only to public unicast addresses. Checked when an endpoint
// is registered and again at every delivery, on the very addresses the request then connects
// to, so a name that resolves to a public address at registration and to loopback later (DNS
// rebinding) reaches nothing.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a host name resolves to. */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

export interface AddressPolicy {
  /** WEBHOOK_ALLOW_PRIVATE_URLS: any address will do (local receivers in development and tests). */
  allowPrivate: boolean;
  /** How host names are resolved (tests inject one that answers as a rebinding name would). */
  resolve?: Resolver;
}

/** A URL or an address a webhook may not be sent to; the message says why, in words. */
export class AddressRefused extends Error {}

/** Null when the address is public unicast, else the name of the range it is in (loopback, private…). */
export function nonPublicRange(address: string): string | null {
  const parsed = ipaddr.parse(address);
  const range = parsed.range();
  if (range !== "unicast") return range;
  // ipaddr.js calls the deprecated IPv4-compatible form (::a.b.c.d, ::/96) unicast; it names an IPv4 address.
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)) return "ipv4Compatible";
  return null;
}

/** The URL as parsed, if it is one a webhook may be registered with (refusals say why). */
export function webhookUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AddressRefused("must be an absolute http or https URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new AddressRefused("must be an http or https URL");
  if (url.username || url.password) throw new AddressRefused("must not hold credentials");
  if (!url.hostname) throw new AddressRefused("must name a host");
  return url;
}

/** The host of a URL as an address or a name: IPv6 literals lose their brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

/**
 * The addresses `url`'s host stands for, every one of them public: an address literal is
 * checked as it is, a name is resolved and each of its addresses checked.
 */
export async function publicAddressesOf(url: URL, resolve: Resolver = systemResolver): Promise<ResolvedAddress[]> {
  const host = hostOf(url);
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new AddressRefused(`host ${host} could not be resolved`);
    }
    if (addresses.length === 0) throw new AddressRefused(`host ${host} could not be resolved`);
  }
  for (const { address } of addresses) {
    const range = nonPublicRange(address);
    if (range) throw new AddressRefused(`address ${address} is not public (${range})`);
  }
  return addresses;
}

/** Refuses, with the reason in words, a URL a webhook may not be registered with. */
export async function checkWebhookUrl(value: string, policy: AddressPolicy): Promise<void> {
  const url = webhookUrl(value);
  if (!policy.allowPrivate) await publicAddressesOf(url, policy.resolve);
}
