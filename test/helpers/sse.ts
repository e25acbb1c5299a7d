// A GraphQL-over-SSE client on a fetch handler (yoga's "distinct connections" mode).
export interface SseSubscription<T = any> {
  /** The next `next` event's payload; rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }>;
  close(): Promise<void>;
}

export async function subscribeSse(
  fetchFn: (url: string, init: RequestInit) => Response | Promise<Response>,
  url: string,
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<SseSubscription> {
  const controller = new AbortController();
  const response = await fetchFn(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  if (!response.ok || !response.body) throw new Error(`SSE subscription failed: ${response.status} ${await response.text()}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const pending: string[] = [];
  const readMessage = async (): Promise<string> => {
    for (;;) {
      const boundary = buffer.indexOf("\n\n");
      if (boundary >= 0) {
        const message = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const data = message
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trim())
          .join("\n");
        if (/^event: ?next/m.test(message) && data) return data;
        if (/^event: ?complete/m.test(message)) throw new Error("subscription completed");
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      buffer += value;
    }
  };
  return {
    async next(timeoutMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return JSON.parse(pending.shift() ?? (await Promise.race([readMessage(), timeout])));
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      controller.abort();
      await reader.cancel().catch(() => {});
    },
  };
}
