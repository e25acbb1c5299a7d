// A GraphQL-over-SSE client on a fetch handler (yoga's "distinct connections" mode).
export interface SseSubscription<T = any> {
  /** The next `next` event's payload; rejects after `timeoutMs`. An event that comes later is kept for the next call. */
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
  // The stream is read as it comes, into a queue: a `next` that gives up waiting loses nothing.
  const queue: string[] = [];
  let ended: Error | undefined;
  let wake = () => {};
  void (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += value;
        for (let boundary = buffer.indexOf("\n\n"); boundary >= 0; boundary = buffer.indexOf("\n\n")) {
          const message = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const data = message
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trim())
            .join("\n");
          if (/^event: ?next/m.test(message) && data) queue.push(data);
          if (/^event: ?complete/m.test(message)) throw new Error("subscription completed");
        }
        wake();
      }
    } catch (error) {
      ended = error instanceof Error ? error : new Error(String(error));
      wake();
    }
  })();
  return {
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (ended) throw ended;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
        // Woken by the reader, or by the deadline.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return JSON.parse(queue.shift()!);
    },
    async close() {
      controller.abort();
      await reader.cancel().catch(() => {});
    },
  };
}
