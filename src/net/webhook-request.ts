// One webhook POST, and what came of it in words. The request connects only to addresses the
// guard has just checked (a lookup of our own hands them to the socket), follows no redirect,
// reads at most MAX_RESPONSE_BYTES of the answer and gives up at the deadline, DNS included.
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { AddressRefused, publicAddressesOf, webhookUrl, type AddressPolicy, type ResolvedAddress } from "./public-address.ts";

/** What is read of an answer at most: its status is all that counts, the rest is not waited for. */
export const MAX_RESPONSE_BYTES = 4096;

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  policy: AddressPolicy;
}

export type AttemptOutcome =
  | { delivered: true; status: number }
  /** `status` is null when no answer came. */
  | { delivered: false; status: number | null; error: string };

/** A lookup that answers with the addresses already checked, so the socket connects to one of them and nothing else. */
const lookupAmong =
  (addresses: readonly ResolvedAddress[]): LookupFunction =>
  (_hostname, options, callback) => {
    const wanted = addresses.filter(({ family }) => !options.family || options.family === family);
    const usable = wanted.length > 0 ? wanted : addresses;
    if (options.all) {
      (callback as (error: null, addresses: readonly ResolvedAddress[]) => void)(null, usable);
    } else {
      const [first] = usable as [ResolvedAddress];
      (callback as (error: null, address: string, family: number) => void)(null, first.address, first.family);
    }
  };

const outcomeOfStatus = (status: number): AttemptOutcome => {
  if (status >= 200 && status < 300) return { delivered: true, status };
  if (status >= 300 && status < 400) return { delivered: false, status, error: `redirect (HTTP ${status}) not followed` };
  return { delivered: false, status, error: `HTTP ${status}` };
};

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host could not be resolved",
  EAI_AGAIN: "host could not be resolved",
};

/** Why a request got no answer, in words. */
function describeFailure(error: unknown): string {
  if (error instanceof AddressRefused) return error.message;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && SOCKET_ERRORS[code]) return SOCKET_ERRORS[code];
  if (typeof code === "string" && /CERT|SSL|TLS/.test(code)) return `TLS failure (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/** POSTs the webhook; never throws: every way it can fail is an outcome. */
export function sendWebhook({ url: target, body, headers, timeoutMs, policy }: WebhookRequest): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    let request: http.ClientRequest | undefined;
    // The status, once an answer came: the deadline then cuts the body short, not the answer.
    let answered: AttemptOutcome | undefined;
    let settled = false;
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request?.destroy();
      resolve(outcome);
    };
    const deadline = setTimeout(
      () => finish(answered ?? { delivered: false, status: null, error: `timed out after ${timeoutMs} ms` }),
      timeoutMs,
    );
    const send = async () => {
      const url = webhookUrl(target);
      const addresses = policy.allowPrivate ? undefined : await publicAddressesOf(url, policy.resolve);
      if (settled) return;
      const client = url.protocol === "https:" ? https : http;
      request = client.request(url, {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        // A connection of its own each time: no pooled socket outlives the check that allowed it.
        agent: false,
        ...(addresses ? { lookup: lookupAmong(addresses) } : {}),
      });
      request.on("response", (response) => {
        answered = outcomeOfStatus(response.statusCode ?? 0);
        let read = 0;
        response.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read >= MAX_RESPONSE_BYTES) finish(answered!);
        });
        response.on("end", () => finish(answered!));
        response.on("error", () => finish(answered!));
      });
      request.on("error", (error) => finish(answered ?? { delivered: false, status: null, error: describeFailure(error) }));
      request.end(body);
    };
    send().catch((error: unknown) => finish({ delivered: false, status: null, error: describeFailure(error) }));
  });
}
