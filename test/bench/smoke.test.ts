// The benchmark runs: a tiny dataset (120 customers, enough for a page of 100, and a "heavy"
// customer of 2,000 usage records) on the embedded database, 0.3-second load runs, and a
// last line `BENCH {json}` holding every figure the performance issues ask for. Figures are
// not judged here (they mean nothing at this size); `npm run bench` measures.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

it("npm run bench ends with a BENCH line holding every figure", async () => {
  const tiny = ["--scale", "0.012", "--seconds", "0.3", "--subscribers", "20", "--heavy-records", "2000", "--impact-customers", "50"];
  const { code, stdout, stderr } = await runBench(["--db", "pglite", ...tiny]);
  expect(code, stderr).toBe(0);
  const last = stdout.trim().split("\n").at(-1)!;
  expect(last.startsWith("BENCH ")).toBe(true);
  const report = JSON.parse(last.slice("BENCH ".length));
  expect(report).toMatchObject({
    db: "pglite",
    q1: {
      rps16: expect.any(Number),
      floorRps16: expect.any(Number),
      ratio: expect.any(Number),
      p99ms: expect.any(Number),
      sqlPerRequest: expect.any(Number),
    },
    q2: {
      rps16: expect.any(Number),
      p99ms: expect.any(Number),
      sqlPerRequest: { 1: expect.any(Number), 10: expect.any(Number), 100: expect.any(Number) },
    },
    q3: { rps16: expect.any(Number), floorRps16: expect.any(Number), ratio: expect.any(Number), p99ms: expect.any(Number) },
    q4: { rps16: expect.any(Number), overLimit: 0 },
    q4credits: { rps16: expect.any(Number), overLimit: 0 },
    s1: { p99ms: expect.any(Number) },
    q5: {
      batchRecordsPerS: expect.any(Number),
      singleRps16: expect.any(Number),
      floorRecordsPerS: expect.any(Number),
      ratio: expect.any(Number),
      storageRecordsPerS: expect.any(Number),
      storageRatio: expect.any(Number),
    },
    q6: {
      records: 2000,
      checkP50Ratio: expect.any(Number),
      checkP99Ratio: expect.any(Number),
      recordP50Ratio: expect.any(Number),
      failures: 0,
    },
    p1: { series1000Ms: expect.any(Number), series1Ms: expect.any(Number), impactCustomers: 50, impactPreviewMs: expect.any(Number) },
    rssMb: { start: expect.any(Number), end: expect.any(Number) },
  });
  expect(report.q1.floorRps16).toBeGreaterThan(0);
  expect(report.s1.deliveries).toBeGreaterThan(0);
  // Records were written, by the server, the floor and the storage statement alone, and each side of Q6 was timed.
  const { batchRecordsPerS, singleRps16, floorRecordsPerS, ratio, storageRecordsPerS } = report.q5;
  for (const figure of [batchRecordsPerS, singleRps16, floorRecordsPerS, ratio, storageRecordsPerS]) expect(figure).toBeGreaterThan(0);
  for (const side of [report.q6.heavy, report.q6.light])
    for (const latency of [side.check.p50, side.check.p99, side.record.p50, side.record.p99]) expect(latency).toBeGreaterThan(0);
  // The table a person reads comes before the line a script reads.
  expect(stdout).toContain("| Q3 check |");
  expect(stdout).toContain("Q6 (heavy customer, 2000 records");
}, 240_000);
