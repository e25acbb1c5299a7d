// The burn-down of docs/rules.md §8, table by table: the order credits are drawn in, what a
// record takes from the allowance and from each credit, what a credit holds at an instant.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { available, burnDown, compareCredits, creditRemaining, planDraws, type Credit } from "../../src/domain/credits.ts";

const at = (iso: string) => new Date(iso);
const credit = (grantId: string, extra: Partial<Credit> = {}): Credit => ({
  grantId,
  amount: 100,
  priority: 0,
  effectiveAt: at("2026-01-01T00:00:00Z"),
  expiresAt: null,
  voidedAt: null,
  ...extra,
});

describe("burn-down order", () => {
  it.each([
    ["higher priority first", [credit("a", { priority: 0 }), credit("b", { priority: 5 })], ["b", "a"]],
    [
      "then the earlier expiry, open-ended last",
      [credit("a"), credit("b", { expiresAt: at("2026-03-01T00:00:00Z") }), credit("c", { expiresAt: at("2026-02-01T00:00:00Z") })],
      ["c", "b", "a"],
    ],
    [
      "then the earlier effectiveAt",
      [credit("a", { effectiveAt: at("2026-01-05T00:00:00Z") }), credit("b", { effectiveAt: at("2026-01-02T00:00:00Z") })],
      ["b", "a"],
    ],
    ["then the id", [credit("b"), credit("a")], ["a", "b"]],
    ["priority before expiry", [credit("a", { expiresAt: at("2026-02-01T00:00:00Z") }), credit("b", { priority: 1 })], ["b", "a"]],
  ])("%s", (_name, credits, order) => {
    expect([...credits].sort(compareCredits).map((c) => c.grantId)).toEqual(order);
  });
});

describe("one record burned down", () => {
  it.each([
    ["within the allowance: no draw", 30, 50, [100], { fromAllowance: 30, draws: [], beyond: 0 }],
    ["the rest of the allowance, then the first credit", 80, 50, [100], { fromAllowance: 50, draws: [30], beyond: 0 }],
    ["across two credits in one record", 180, 0, [100, 100], { fromAllowance: 0, draws: [100, 80], beyond: 0 }],
    ["beyond every limit once credits are used up", 250, 20, [100, 100], { fromAllowance: 20, draws: [100, 100], beyond: 30 }],
    ["an allowance already exceeded (soft) takes nothing", 10, -40, [100], { fromAllowance: 0, draws: [10], beyond: 0 }],
    ["an empty credit is skipped", 10, 0, [0, 100], { fromAllowance: 0, draws: [10], beyond: 0 }],
    ["a negative record draws nothing", -10, 0, [100], { fromAllowance: 0, draws: [], beyond: 0 }],
    ["nor does 0", 0, 0, [100], { fromAllowance: 0, draws: [], beyond: 0 }],
  ])("%s", (_name, quantity, allowanceLeft, holds, expected) => {
    const credits = holds.map((value, index) => ({ grantId: `g${index}`, holds: value }));
    const result = burnDown(quantity, allowanceLeft, credits);
    expect({ ...result, draws: result.draws.map((draw) => draw.amount) }).toEqual(expected);
    // Every positive quantity is accounted for exactly once.
    if (quantity > 0) expect(result.fromAllowance + result.draws.reduce((sum, d) => sum + d.amount, 0) + result.beyond).toBe(quantity);
  });
});

describe("records burned down together", () => {
  it("runs the example of docs/rules.md §8 over January and February", () => {
    // Allowance 1,000 a month; a credit of 500 (priority 0) and one of 200 (priority 5), in burn-down order.
    const creditIds = ["c200", "c500"];
    const holds = new Map([
      ["c200", 200],
      ["c500", 500],
    ]);
    const january = planDraws([{ quantity: 1100, periodKey: "jan", usageLimit: 1000, creditIds }], new Map(), holds);
    expect(january.draws).toEqual([[{ grantId: "c200", amount: 100 }]]);
    const february = planDraws([{ quantity: 1700, periodKey: "feb", usageLimit: 1000, creditIds }], new Map(), january.holds);
    expect(february.draws).toEqual([
      [
        { grantId: "c200", amount: 100 },
        { grantId: "c500", amount: 500 },
      ],
    ]);
    expect(february.holds).toEqual(
      new Map([
        ["c200", 0],
        ["c500", 0],
      ]),
    );
  });

  it("lets a negative record give back allowance, never credit", () => {
    const records = [
      { quantity: 12, periodKey: "p", usageLimit: 10, creditIds: ["c"] }, // 10 + 2 from the credit
      { quantity: -5, periodKey: "p", usageLimit: 10, creditIds: ["c"] }, // used 7: 3 of the allowance back
      { quantity: 4, periodKey: "p", usageLimit: 10, creditIds: ["c"] }, // 3 from the allowance, 1 from the credit
    ];
    const { draws, holds } = planDraws(records, new Map([["p", 0]]), new Map([["c", 10]]));
    expect(draws.map((d) => d.map((x) => x.amount))).toEqual([[2], [], [1]]);
    expect(holds.get("c")).toBe(7);
  });

  it("keeps each period's allowance apart and the credits shared", () => {
    const { draws } = planDraws(
      [
        { quantity: 15, periodKey: "jan", usageLimit: 10, creditIds: ["c"] },
        { quantity: 15, periodKey: "feb", usageLimit: 10, creditIds: ["c"] },
      ],
      new Map([["feb", 8]]),
      new Map([["c", 6]]),
    );
    expect(draws.map((d) => d.map((x) => x.amount))).toEqual([[5], [1]]);
  });

  it("draws everything from the credits of an entitlement of credits alone (usageLimit 0), nothing when unlimited", () => {
    const { draws } = planDraws(
      [
        { quantity: 3, periodKey: "all", usageLimit: 0, creditIds: ["c"] },
        { quantity: 3, periodKey: "x", usageLimit: null, creditIds: ["c"] },
      ],
      new Map(),
      new Map([["c", 10]]),
    );
    expect(draws.map((d) => d.map((x) => x.amount))).toEqual([[3], []]);
  });
});

describe("what a credit holds at an instant", () => {
  const voided = credit("v", { voidedAt: at("2026-02-01T00:00:00Z"), expiresAt: at("2026-03-01T00:00:00Z") });
  it.each([
    ["its amount less what was drawn before", credit("a"), 30, "2026-01-15T00:00:00Z", 70],
    ["never below 0", credit("a"), 130, "2026-01-15T00:00:00Z", 0],
    ["nothing once expired", credit("a", { expiresAt: at("2026-02-01T00:00:00Z") }), 0, "2026-02-01T00:00:00Z", 0],
    ["nothing from the void on, the earlier end", voided, 10, "2026-02-01T00:00:00Z", 0],
    ["until then, what is left", voided, 10, "2026-01-31T23:59:59Z", 90],
  ])("%s", (_name, c, drawn, instant, expected) => {
    expect(creditRemaining(c, drawn, at(instant))).toBe(expected);
  });

  it.each([
    [10, false, 4, 0, 6],
    [10, false, 14, 5, 5],
    [10, false, 4, 5, 11],
    [null, true, 4, 5, null],
  ])("available(limit %s, unlimited %s, used %s, credits %s) = %s", (limit, unlimited, used, credits, expected) => {
    expect(available(limit, unlimited, used, credits)).toBe(expected);
  });
});

describe("for any records and credits (property)", () => {
  it("no credit gives more than it holds, and allowance + draws + beyond is each positive record's quantity", () => {
    const record = fc.record({
      quantity: fc.integer({ min: -20, max: 40 }),
      periodKey: fc.constantFrom("jan", "feb", "mar"),
      usageLimit: fc.option(fc.integer({ min: 0, max: 30 }), { nil: null, freq: 5 }),
      creditIds: fc.subarray(["a", "b", "c"]),
    });
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 25 }), { minLength: 3, maxLength: 3 }),
        (records, amounts) => {
          const holds = new Map(["a", "b", "c"].map((id, index) => [id, amounts[index] as number]));
          const { draws, holds: left } = planDraws(records, new Map(), holds);
          for (const [id, amount] of holds) {
            const drawn = draws
              .flat()
              .filter((draw) => draw.grantId === id)
              .reduce((sum, draw) => sum + draw.amount, 0);
            expect(drawn).toBeLessThanOrEqual(amount);
            expect(left.get(id)).toBe(amount - drawn);
            expect(left.get(id)).toBeGreaterThanOrEqual(0);
          }
          // Replayed one by one, each record's parts add up to its quantity, and only positive ones draw.
          const used = new Map<string, number>();
          const running = new Map(holds);
          records.forEach((entry, index) => {
            const before = used.get(entry.periodKey) ?? 0;
            used.set(entry.periodKey, before + entry.quantity);
            const mine = draws[index] ?? [];
            if (entry.quantity <= 0 || entry.usageLimit === null) {
              expect(mine).toEqual([]);
              return;
            }
            const result = burnDown(
              entry.quantity,
              entry.usageLimit - before,
              entry.creditIds.map((grantId) => ({ grantId, holds: running.get(grantId) ?? 0 })),
            );
            expect(result.draws).toEqual(mine);
            const drawn = mine.reduce((sum, draw) => sum + draw.amount, 0);
            expect(result.fromAllowance + drawn + result.beyond).toBe(entry.quantity);
            expect(result.fromAllowance).toBe(Math.min(entry.quantity, Math.max(0, entry.usageLimit - before)));
            for (const draw of mine) running.set(draw.grantId, (running.get(draw.grantId) ?? 0) - draw.amount);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
