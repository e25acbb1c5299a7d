// A TCP proxy the tests control, between a server and PostgreSQL or Redis: it forwards, refuses
// (every connection reset, new ones too) or blackholes (connections stay open, nothing
// passes) — a service going away as a client sees it, without stopping the service.
import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export type ProxyMode = "forward" | "refuse" | "blackhole";

export interface TcpProxy {
  port: number;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = "forward";
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket)).on("error", () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (mode === "refuse") return void client.destroy();
    if (mode === "blackhole") return; // accepted, never answered
    const upstream = connect(target.port, target.host);
    track(upstream);
    // Data passes only while forwarding: a blackhole keeps the sockets but drops what comes.
    client.on("data", (chunk) => mode === "forward" && upstream.write(chunk));
    upstream.on("data", (chunk) => mode === "forward" && client.write(chunk));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    setMode(next) {
      // Refusing resets what is open; a blackhole keeps it open and silent (queries hang),
      // and when it lifts those connections are reset, as a partition's would be.
      const reset = next === "refuse" || (next === "forward" && mode === "blackhole");
      mode = next;
      if (reset) for (const socket of open) socket.destroy();
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
