// /healthz: the process is up. /readyz: the database answers and is migrated, else 503.
import type { Plugin } from "graphql-yoga";

export function useHealthEndpoints(isReady: () => Promise<{ ready: boolean; reason?: string }>): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname === "/healthz") {
        endResponse(Response.json({ status: "ok" }));
        return;
      }
      if (url.pathname === "/readyz") {
        const { ready, reason } = await isReady().catch((error: Error) => ({ ready: false, reason: error.message }));
        endResponse(
          new fetchAPI.Response(JSON.stringify(ready ? { status: "ready" } : { status: "unavailable", reason }), {
            status: ready ? 200 : 503,
            headers: { "content-type": "application/json" },
          }),
        );
      }
    },
  };
}
