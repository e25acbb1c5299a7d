// Waiting for a condition instead of sleeping: a test that sleeps is slow when the machine
// is idle and flaky when it is busy; one that polls is as fast as the code under test and
// fails, with a message saying what it waited for, only when the deadline passes.

export interface WaitOptions {
  /** How long before giving up (default 5 s). */
  timeoutMs?: number;
  /** How long between two looks (default 10 ms). */
  intervalMs?: number;
  /** What is waited for, for the error on timeout (a function: asked then, to tell the state). */
  what?: string | (() => string);
}

/**
 * Resolves with the first truthy value `condition` returns, looking again every `intervalMs`;
 * rejects once `timeoutMs` has passed without one. An error `condition` throws is not retried.
 */
export async function waitUntil<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 5000, intervalMs = 10, what = "the condition" }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`waited ${timeoutMs} ms for ${typeof what === "function" ? what() : what}, in vain`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
