// The counters an operator (and the benchmark) reads at /metrics, in Prometheus's format:
// the process's own (memory, event loop), SQL statements sent, and whatever other modules
// register on the same registry.
import { collectDefaultMetrics, Counter, Registry } from "prom-client";

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
