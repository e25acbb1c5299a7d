// Which customers and features the load asks about: a fixed, seeded sample skewed the way
// real traffic is (a few customers ask most), made once and sent to every server measured.
import { seededRandom, type DatasetIndex } from "./dataset.ts";
import { gqlBody, Q1, Q3 } from "./queries.ts";

/** Zipf-distributed ranks in [0, n): rank r is chosen with probability ∝ 1 / (r + 1)^s. */
function zipfSampler(n: number, s: number, random: () => number) {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) cdf[rank] = total += 1 / (rank + 1) ** s;
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cdf[mid]! < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

/** Request bodies, one list per endpoint, each in the same order of (customer, feature). */
export interface Workload {
  q1Bodies: string[];
  q3Bodies: string[];
  floorQ1Bodies: string[];
  floorQ3Bodies: string[];
  /** A metered feature some customer has: what Q4 consumes and S1's grants change. */
  meteredFeature: string;
}

export function workloadFor(index: DatasetIndex): Workload {
  const random = seededRandom(7);
  const zipf = zipfSampler(index.customerExternalIds.length, 1.1, random.next);
  const sample = Array.from({ length: 5000 }, () => zipf()).filter((rank) => index.meteredKeysByCustomer[rank]!.length > 0);
  const checks = sample.map((rank) => ({ c: index.customerExternalIds[rank]!, f: random.pick(index.meteredKeysByCustomer[rank]!) }));
  return {
    q1Bodies: checks.map(({ c }) => gqlBody(Q1, { c })),
    q3Bodies: checks.map(({ c, f }) => gqlBody(Q3, { c, f })),
    floorQ1Bodies: checks.map(({ c }) => JSON.stringify({ customer: c })),
    floorQ3Bodies: checks.map(({ c, f }) => JSON.stringify({ customer: c, featureKey: f })),
    meteredFeature: index.meteredKeysByCustomer.find((keys) => keys.length > 0)![0]!,
  };
}
