// Knowing that a listening server has registered a subscriber. It says nothing when it does,
// and a write made before then is not told to it, so the test writes first what the
// subscriber must hear — a probe: a grant of a feature of its own, given and voided in turn
// until one of those changes arrives. The probe is left voided (no entitlement of it
// remains), and `withoutProbe` drops its events from what the test reads afterwards.
import type { Gql, Seed } from "./seed.ts";
import { waitUntil } from "./wait.ts";

/** The probe's feature: seed it once in the project (`seed.feature(PROBE_FEATURE)`). */
export const PROBE_FEATURE = { key: "probe", name: "Registration probe", type: "BOOLEAN" } as const;

interface Change {
  changedFeatureKeys: string[];
}
/** A subscriber's next change; rejects with "no event within …" when none comes in time. */
type Next<T extends Change> = (timeoutMs?: number) => Promise<T>;

const isProbe = (change: Change) => change.changedFeatureKeys.length === 1 && change.changedFeatureKeys[0] === PROBE_FEATURE.key;

/** Resolves once the subscriber whose changes `next` reads has heard a probe of `customer`'s. */
export async function probeUntilHeard<T extends Change>({
  seed,
  gql,
  customer,
  next,
}: {
  seed: Seed;
  gql: Gql;
  customer: string;
  next: Next<T>;
}) {
  let granted: string | null = null;
  const toggle = async () => {
    if (granted === null) {
      granted = (await seed.grant(customer, { featureKey: PROBE_FEATURE.key })).id;
    } else {
      const voided = await gql(`mutation ($id: ID!) { voidGrant(id: $id) { id } }`, { id: granted });
      if (voided.errors) throw new Error(`probe: voidGrant failed: ${JSON.stringify(voided.errors)}`);
      granted = null;
    }
  };
  await waitUntil(
    async () => {
      await toggle();
      const heard = await next(250).catch((error: unknown) => {
        if (error instanceof Error && /^no event within/.test(error.message)) return null;
        throw error;
      });
      if (heard && !isProbe(heard)) throw new Error(`probe: the subscriber heard something else first: ${JSON.stringify(heard)}`);
      return heard !== null;
    },
    { timeoutMs: 15_000, intervalMs: 0, what: `the server to register the subscriber of ${customer}` },
  );
  if (granted !== null) await toggle();
}

/** `next`, passing over the probe's changes (those still on their way). */
export function withoutProbe<T extends Change>(next: Next<T>): Next<T> {
  return async (timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const change = await next(Math.max(1, deadline - Date.now()));
      if (!isProbe(change)) return change;
    }
  };
}
