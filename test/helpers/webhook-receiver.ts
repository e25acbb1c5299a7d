// A webhook receiver on 127.0.0.1 for the tests: it records every request it gets (headers and
// the exact body), checks each signature with the Standard Webhooks library, and answers as
// the test says (a status, never, a redirect, a huge body).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether the signature verified with the receiver's secret at the time it came. */
  verified: boolean;
}

/** How to answer the n-th request (from 0); return nothing to leave it unanswered. */
export type Answer = (response: ServerResponse, n: number) => void;

export const answerWith =
  (status: number): Answer =>
  (response) =>
    response.writeHead(status).end("ok");

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** The secret signatures are verified with (set it once the endpoint is created). */
  secret: string | undefined;
  answer: Answer;
  /** Distinct webhook-id headers received. */
  ids(): Set<string>;
  close(): Promise<void>;
}

/** Starts a receiver on `port` (default: any free one). */
export async function startReceiver(answer: Answer = answerWith(200), port = 0): Promise<WebhookReceiver> {
  const sockets = new Set<Socket>();
  const receiver: WebhookReceiver = {
    url: "",
    port: 0,
    received: [],
    secret: undefined,
    answer,
    ids: () => new Set(receiver.received.map((request) => String(request.headers["webhook-id"]))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let verified = false;
      try {
        if (receiver.secret) {
          new Webhook(receiver.secret).verify(body, request.headers as Record<string, string>);
          verified = true;
        }
      } catch {
        verified = false;
      }
      const n = receiver.received.push({ headers: request.headers, body, verified }) - 1;
      receiver.answer(response, n);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
  return receiver;
}
