// Scheduled transitions (docs/rules.md §6): a source's start or end time being reached changes a
// customer's entitlements with no write happening. A scan covers the instants in
// (from, to]; what it finds there is announced unless the write that set it already was.
import type { Entitlement } from "./entitlements.ts";

/** The instants a scan covers: after `from`, up to and including `to`. */
export interface ScanWindow {
  from: Date;
  to: Date;
}

/**
 * The instants among `times` that the scan announces: inside the window and later than
 * the row's last write. An instant at or before the write (a subscription starting now,
 * a cancellation taking effect now) was in force when the write's own event compared the
 * customer before and after, so announcing it again would tell subscribers twice.
 */
export function boundariesToAnnounce(window: ScanWindow, times: readonly (Date | null)[], lastWrite: Date): Date[] {
  return times.filter(
    (t): t is Date =>
      t !== null && t.getTime() > window.from.getTime() && t.getTime() <= window.to.getTime() && t.getTime() > lastWrite.getTime(),
  );
}

/** The rows whose boundaries a scan found for one customer. */
export interface TransitionedSources {
  subscriptionIds: ReadonlySet<string>;
  grantIds: ReadonlySet<string>;
}

/**
 * The feature keys a transition of these sources can explain: those with a source from one
 * of the subscriptions or grants, before or after. A change elsewhere in the same window
 * came from a write, which announced it itself.
 */
export function featuresFedBy(entitlements: readonly Entitlement[], sources: TransitionedSources): Set<string> {
  return new Set(
    entitlements
      .filter((entitlement) =>
        entitlement.sources.some(
          (source) =>
            (source.subscriptionId !== null && sources.subscriptionIds.has(source.subscriptionId)) ||
            (source.type === "GRANT" && sources.grantIds.has(source.entity.id)),
        ),
      )
      .map((entitlement) => entitlement.feature.key),
  );
}

/** The scan window after one that ended at `processedUntil`, at most `maxCatchUpMs` long. */
export function nextScanWindow(processedUntil: Date, now: Date, maxCatchUpMs: number): ScanWindow | null {
  if (now.getTime() <= processedUntil.getTime()) return null;
  return { from: new Date(Math.max(processedUntil.getTime(), now.getTime() - maxCatchUpMs)), to: now };
}
