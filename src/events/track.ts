// Runs a write and tells subscribers of every customer whose entitlements it changed:
// the customers' observable entitlements are compared before and after (SPEC §6).
import { projectIdOf, type Context } from "../context.ts";
import { changedFeatureKeys, snapshotOf, type EntitlementSnapshot } from "../domain/changes.ts";
import { entitlementsAt } from "../domain/entitlements.ts";
import { createLoaders } from "../loaders/index.ts";
import { usageKeyOf } from "../loaders/customer-state.ts";
import { ENTITLEMENTS_CHANGED, type ChangeCause } from "./bus.ts";

/** Each customer's observable entitlements now, read afresh (no request cache). */
async function snapshots(context: Context, projectId: string, customerIds: readonly string[]) {
  const loaders = createLoaders(context.prisma, projectId);
  const now = new Date();
  const entries = await Promise.all(
    customerIds.map(async (customerId): Promise<[string, EntitlementSnapshot]> => {
      const { state } = await loaders.customerState.load(customerId);
      const entitlements = entitlementsAt(state, now);
      const used = await Promise.all(
        entitlements.map((entitlement) =>
          entitlement.feature.type === "METERED" ? loaders.usage.load(usageKeyOf(customerId, entitlement)) : 0,
        ),
      );
      return [customerId, snapshotOf(entitlements, (entitlement) => used[entitlements.indexOf(entitlement)] ?? 0)];
    }),
  );
  return new Map(entries);
}

export async function withChangeEvents<T>(
  context: Context,
  customerIds: readonly string[],
  cause: ChangeCause,
  write: () => Promise<T>,
): Promise<T> {
  const projectId = projectIdOf(context);
  const ids = [...new Set(customerIds)];
  const before = await snapshots(context, projectId, ids);
  const result = await write();
  const after = await snapshots(context, projectId, ids);
  const occurredAt = new Date().toISOString();
  for (const customerId of ids) {
    const changed = changedFeatureKeys(before.get(customerId) ?? new Map(), after.get(customerId) ?? new Map());
    if (changed.length > 0) {
      context.events.publish(ENTITLEMENTS_CHANGED, projectId, { projectId, customerId, cause, changedFeatureKeys: changed, occurredAt });
    }
  }
  return result;
}
