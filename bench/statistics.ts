// How the bench sums up what it measured.

/** The value at quantile `q` of `sorted` (ascending), to a tenth. */
export function percentile(sorted: readonly number[], q: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
}

/** The middle value (the upper one of an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** `ours / base` to two decimals. */
export const ratio = (ours: number, base: number) => Math.round((ours / base) * 100) / 100;
