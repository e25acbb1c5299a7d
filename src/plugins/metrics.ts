// GET /metrics: the registry's counters in Prometheus's text format.
import type { Plugin } from "graphql-yoga";
import type { Registry } from "prom-client";

export function useMetricsEndpoint(registry: Registry): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== "/metrics") return;
      endResponse(new fetchAPI.Response(await registry.metrics(), { headers: { "content-type": registry.contentType } }));
    },
  };
}
