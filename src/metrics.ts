// The counters an operator (and the benchmark) reads at /metrics, in Prometheus's format:
// the process's own (memory, event loop), SQL statements sent, and whatever other modules
// register on the same registry.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics({ statementCount }: { statementCount: () => number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Counter({
    name: "entitlements_sql_statements_total",
    help: "SQL statements sent to the database.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(statementCount());
    },
  });
  return { registry };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;

/** The webhook delivery worker's counters, on `registry`; the queue's depth is read at each scrape. */
export function createWebhookMetrics(registry: Registry, queueDepth: () => Promise<number>) {
  new Gauge({
    name: "entitlements_webhook_queue_depth",
    help: "Webhook deliveries still PENDING (every project's), read at each scrape.",
    registers: [registry],
    async collect() {
      this.set(await queueDepth());
    },
  });
  return {
    attempts: new Counter({
      name: "entitlements_webhook_attempts_total",
      help: "Webhook delivery attempts by what they left the delivery in: SUCCEEDED, PENDING (to be retried) or FAILED (schedule spent).",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: "entitlements_webhook_attempt_duration_seconds",
      help: "How long a webhook attempt took, from resolving the host to the answer (or the failure).",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
