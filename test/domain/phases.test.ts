import { describe, expect, it } from "vitest";
import { phaseAt, planChange, representativePhase, type Phase } from "../../src/domain/phases.ts";

const t = (iso: string) => new Date(iso);
const phase = (id: string, planId: string, start: string, end: string | null, quantity = 1): Phase => ({
  id,
  planId,
  quantity,
  startsAt: t(start),
  endsAt: end ? t(end) : null,
});

describe("phases", () => {
  const history = [
    phase("p1", "basic", "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", 2),
    phase("p2", "pro", "2026-03-01T00:00:00Z", null, 5),
  ];

  it("finds the phase in force with half-open windows", () => {
    expect(phaseAt(history, t("2026-02-28T23:59:59Z"))?.id).toBe("p1");
    expect(phaseAt(history, t("2026-03-01T00:00:00Z"))?.id).toBe("p2");
    expect(phaseAt(history, t("2025-12-31T00:00:00Z"))).toBeUndefined();
  });

  it("shows the first phase before the start and the last after the end", () => {
    expect(representativePhase(history, t("2025-01-01T00:00:00Z"))?.id).toBe("p1");
    const ended = [phase("p1", "basic", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")];
    expect(representativePhase(ended, t("2026-06-01T00:00:00Z"))?.id).toBe("p1");
  });

  it("closes the phase in force at the change and opens a new one, keeping the quantity by default", () => {
    const change = planChange(history, { planId: "enterprise", at: t("2026-04-01T00:00:00Z") });
    expect(change).toEqual({
      removePhaseIds: [],
      closePhase: { id: "p2", endsAt: t("2026-04-01T00:00:00Z") },
      newPhase: { planId: "enterprise", quantity: 5, startsAt: t("2026-04-01T00:00:00Z"), endsAt: null },
    });
  });

  it("replaces phases scheduled at or after the change", () => {
    const change = planChange(history, { planId: "enterprise", quantity: 9, at: t("2026-02-01T00:00:00Z") });
    expect(change.removePhaseIds).toEqual(["p2"]);
    expect(change.closePhase).toEqual({ id: "p1", endsAt: t("2026-02-01T00:00:00Z") });
    expect(change.newPhase.quantity).toBe(9);
  });

  it("a change exactly at a phase's start replaces that phase instead of leaving an empty one", () => {
    const change = planChange(history, { planId: "enterprise", at: t("2026-03-01T00:00:00Z") });
    expect(change.removePhaseIds).toEqual(["p2"]);
    expect(change.closePhase).toBeNull(); // p1 already ends at that instant
    expect(change.newPhase).toMatchObject({ planId: "enterprise", quantity: 5, startsAt: t("2026-03-01T00:00:00Z") });
  });
});
