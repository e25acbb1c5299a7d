// The GraphQL operations the bench sends, and the little client it sends its one-off
// requests with (the load generators in load.ts send the rest).

export const Q1 = `query Q1($c: String!) { customer(externalId: $c) { entitlements {
  featureKey isEnabled usageLimit isUnlimited hasAccess usage { used remaining } sources { type entityName usageLimit }
} } }`;
export const Q2 = `query Q2($n: Int!) { customers(first: $n) { edges { node { externalId entitlements {
  featureKey usageLimit hasAccess usage { used }
} } } } }`;
export const Q3 = `query Q3($c: String!, $f: String!) { checkEntitlement(customer: { externalId: $c }, featureKey: $f) { allowed reason } }`;
export const Q4 = `mutation Q4($c: String!, $f: String!) { consumeEntitlement(input: { customer: { externalId: $c }, featureKey: $f }) { allowed reason } }`;
/** Q5 and Q6 record usage one record a call (Q5 also 1,000 a call, below). */
export const RECORD_USAGE = `mutation RecordUsage($c: String!, $f: String!, $q: Float) { recordUsage(input: { customer: { externalId: $c }, featureKey: $f, quantity: $q }) { id } }`;
export const RECORD_USAGES = `mutation RecordUsages($records: [RecordUsageInput!]!) { recordUsages(records: $records) { recordedCount } }`;
/** What S1's subscribers listen to. */
export const ENTITLEMENTS_CHANGED = `subscription ($c: CustomerRef!) { entitlementsChanged(customer: $c) { cause changedFeatureKeys entitlements { featureKey hasAccess usageLimit } } }`;
/**
 * The change S1 sends: a grant, which each subscriber hears as an entitlementsChanged. Its
 * limit is written into the document, not a variable: an integer literal is a valid
 * usageLimit whether the server's schema types it Float or (before limits were Float, as
 * a revision `--compare` builds may be) Int.
 */
export const createGrant = (limit: number) =>
  `mutation ($c: String!, $f: String!) { createGrant(input: { customer: { externalId: $c }, featureKey: $f, usageLimit: ${Math.trunc(limit)} }) { id } }`;

export const gqlBody = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });

export interface GraphqlResponse {
  data?: any;
  errors?: unknown[];
}

/** POSTs a JSON body to `url` (the server's /graphql or one of the floor's paths). */
export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<GraphqlResponse> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return (await response.json()) as GraphqlResponse;
}

/** Throws unless the response has data, no errors, and `check` accepts the data: a wrong answer measured fast is no measure. */
export function expectShape(what: string, response: GraphqlResponse, check: (data: any) => boolean) {
  if (response.errors || !response.data || !check(response.data)) {
    throw new Error(`${what}: unexpected response ${JSON.stringify(response).slice(0, 500)}`);
  }
}

/** Creates a customer of its own for a measure (S1's subscribers all watch one). */
export async function createCustomer(graphqlUrl: string, auth: Record<string, string>, externalId: string, what: string) {
  expectShape(
    what,
    await post(graphqlUrl, gqlBody(`mutation ($c: String!) { createCustomer(input: { externalId: $c }) { id } }`, { c: externalId }), auth),
    (data) => Boolean(data.createCustomer),
  );
}
