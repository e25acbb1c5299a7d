// What the bench reads off a server's /metrics (Prometheus text).

async function metricsText(serverUrl: string): Promise<string> {
  return (await fetch(`${serverUrl}/metrics`)).text();
}

/** A metric without labels: its value now (NaN if the server does not report it). */
async function metric(serverUrl: string, name: string): Promise<number> {
  const line = (await metricsText(serverUrl)).split("\n").find((candidate) => candidate.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? NaN);
}

/** `run`'s result and the SQL statements the server sent while it ran. */
export async function sqlStatementsDuring<T>(serverUrl: string, run: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const before = await metric(serverUrl, "entitlements_sql_statements_total");
  const result = await run();
  return { result, statements: (await metric(serverUrl, "entitlements_sql_statements_total")) - before };
}

const megabytes = async (serverUrl: string, name: string) => Math.round((await metric(serverUrl, name)) / 2 ** 20);

/** The server process's resident set size, in MB. */
export const residentMegabytes = (serverUrl: string) => megabytes(serverUrl, "process_resident_memory_bytes");

/** The server's JavaScript heap in use, in MB. */
export const heapUsedMegabytes = (serverUrl: string) => megabytes(serverUrl, "nodejs_heap_size_used_bytes");

/** The entitlement cache's lookups so far, by kind: { customer_rows: { hit, miss }, … }. */
export async function cacheLookups(serverUrl: string): Promise<Record<string, Record<string, number>>> {
  const lookups: Record<string, Record<string, number>> = {};
  for (const [, kind, result, value] of (await metricsText(serverUrl)).matchAll(
    /^entitlements_cache_lookups_total\{kind="(\w+)",result="(\w+)"\} (\d+)/gm,
  )) {
    const byResult = lookups[kind!] ?? {};
    byResult[result!] = Number(value);
    lookups[kind!] = byResult;
  }
  return lookups;
}
