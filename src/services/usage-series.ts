// A customer's usage over time (docs/rules.md §9), for dashboards: whole windows straight
// from the usage aggregates (one statement), the clipped first and last ones summed as usage
// periods are (one more). Two statements, however many windows and records.
import { MAX_SERIES_WINDOWS, seriesWindows, type SeriesWindow } from "../domain/usage-series.ts";
import { invalidInput } from "../errors.ts";
import { bucketSums, sumUsage } from "../loaders/usage.ts";
import { featureByKey } from "./catalog.ts";
import type { ProjectScope } from "./scope.ts";

export interface UsageBucket {
  start: Date;
  end: Date;
  used: number;
}

export async function usageSeries(
  scope: ProjectScope,
  customerId: string,
  input: { featureKey: string; from: Date; to: Date; window: SeriesWindow },
): Promise<UsageBucket[]> {
  const from = input.from.getTime();
  const to = input.to.getTime();
  if (!(from < to)) throw invalidInput("from", `must be before to (${input.to.toISOString()})`);
  const feature = await featureByKey(scope, input.featureKey, "featureKey");
  if (feature.type !== "METERED") {
    throw invalidInput("featureKey", `usage is recorded for METERED features only; "${feature.key}" is ${feature.type}`);
  }
  const windows = seriesWindows(input.window, from, to);
  if (!windows) {
    throw invalidInput(
      "window",
      `[from, to) holds more than ${MAX_SERIES_WINDOWS} ${input.window} windows; ask for a wider window or a shorter span`,
    );
  }
  const key = { customerId, featureId: feature.id };
  const clipped = windows.filter((window) => !window.whole);
  const [whole, edges] = await Promise.all([
    windows.some((window) => window.whole) ? bucketSums(scope.prisma, key, input.window, from, to) : new Map<number, number>(),
    sumUsage(
      scope.prisma,
      clipped.map((window) => ({ ...key, start: new Date(window.start), end: new Date(window.end) })),
    ),
  ]);
  const edgeSums = new Map(clipped.map((window, index) => [window.start, edges[index] ?? 0]));
  return windows.map((window) => ({
    start: new Date(window.start),
    end: new Date(window.end),
    used: (window.whole ? whole.get(window.windowStart) : edgeSums.get(window.start)) ?? 0,
  }));
}
