// A subscription's plan over time: phases [startsAt, endsAt), oldest first.
import { windowCovers } from "./time.ts";

export interface Phase {
  id: string;
  planId: string;
  quantity: number;
  startsAt: Date;
  endsAt: Date | null;
}

export function sortPhases<P extends Phase>(phases: readonly P[]): P[] {
  return [...phases].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
}

/** The phase in force at t, if any. */
export function phaseAt<P extends Phase>(phases: readonly P[], t: Date): P | undefined {
  return phases.find((phase) => windowCovers({ start: phase.startsAt, end: phase.endsAt }, t));
}

/**
 * The phase shown as "the plan" at t: the one in force, else (before the start) the first,
 * else (after the end) the last.
 */
export function representativePhase<P extends Phase>(phases: readonly P[], t: Date): P | undefined {
  const sorted = sortPhases(phases);
  const first = sorted[0];
  if (first && t.getTime() < first.startsAt.getTime()) return first;
  return phaseAt(sorted, t) ?? sorted.at(-1);
}

export interface PlanChange {
  /** Phases that start at or after the change and are superseded by it. */
  removePhaseIds: string[];
  /** The phase in force at the change, closed at the change. */
  closePhase: { id: string; endsAt: Date } | null;
  /** The new phase, open-ended. */
  newPhase: { planId: string; quantity: number; startsAt: Date; endsAt: null };
}

/**
 * A plan change at `at` closes the phase in force at `at` and opens a new one from `at`;
 * phases scheduled to start at or after `at` are replaced by it.
 */
export function planChange(phases: readonly Phase[], change: { planId: string; quantity?: number | null; at: Date }): PlanChange {
  const sorted = sortPhases(phases);
  const at = change.at.getTime();
  const current = sorted.find((phase) => phase.startsAt.getTime() < at && (phase.endsAt === null || phase.endsAt.getTime() > at));
  const superseded = sorted.filter((phase) => phase.startsAt.getTime() >= at);
  const previous = current ?? superseded[0] ?? sorted.at(-1);
  return {
    removePhaseIds: superseded.map((phase) => phase.id),
    closePhase: current ? { id: current.id, endsAt: change.at } : null,
    newPhase: {
      planId: change.planId,
      quantity: change.quantity ?? previous?.quantity ?? 1,
      startsAt: change.at,
      endsAt: null,
    },
  };
}

/** The phases after `change` is made, as the write leaves them (the new phase under `newId`). */
export function phasesAfter(phases: readonly Phase[], change: PlanChange, newId: string): Phase[] {
  const removed = new Set(change.removePhaseIds);
  return [
    ...phases
      .filter((phase) => !removed.has(phase.id))
      .map((phase) => (phase.id === change.closePhase?.id ? { ...phase, endsAt: change.closePhase.endsAt } : phase)),
    { id: newId, ...change.newPhase },
  ];
}
