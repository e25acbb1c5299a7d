// The benchmark's floor: the least a service could do to answer Q1 (a customer's
// entitlements with sources and usage) and Q3 (one check) — node:http, one hand-written SQL
// query per request, JSON out. No GraphQL, no auth, no validation, no overrides, calendar
// months for usage: a lower bound on the work, not a competitor.
// Env: FLOOR_DATABASE_URL (PostgreSQL) or FLOOR_DATA_DIR (PGlite), FLOOR_PROJECT_ID, PORT.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

const SOURCES = `
  c AS (SELECT id FROM "Customer" WHERE "projectId" = $1 AND "externalId" = $2),
  subs AS (
    SELECT s.id FROM "CustomerSubscription" s JOIN c ON s."customerId" = c.id
    WHERE s."startsAt" <= now() AND (s."endsAt" IS NULL OR s."endsAt" > now()) AND (s."canceledAt" IS NULL OR s."canceledAt" > now())
  ),
  sources AS (
    SELECT pe."featureId", pe."isEnabled", pe."isUnlimited", pe."usageLimit" * ph.quantity AS "usageLimit", 'PLAN' AS type
    FROM subs
    JOIN "SubscriptionPhase" ph ON ph."subscriptionId" = subs.id AND ph."startsAt" <= now() AND (ph."endsAt" IS NULL OR ph."endsAt" > now())
    JOIN "PlanEntitlement" pe ON pe."planId" = ph."planId" AND pe."removedAt" IS NULL
    UNION ALL
    SELECT pe."featureId", pe."isEnabled", pe."isUnlimited", pe."usageLimit" * a.quantity, 'ADDON'
    FROM subs
    JOIN "SubscriptionAddon" a ON a."subscriptionId" = subs.id AND a."startsAt" <= now() AND (a."endsAt" IS NULL OR a."endsAt" > now())
    JOIN "PlanEntitlement" pe ON pe."planId" = a."addonId" AND pe."removedAt" IS NULL
    UNION ALL
    SELECT g."featureId", g."isEnabled", g."isUnlimited", g."usageLimit", 'GRANT'
    FROM "Grant" g JOIN c ON g."customerId" = c.id
    WHERE g."effectiveAt" <= now() AND (g."expiresAt" IS NULL OR g."expiresAt" > now()) AND (g."voidedAt" IS NULL OR g."voidedAt" > now())
  )`;

const Q1 = `WITH ${SOURCES},
  totals AS (
    SELECT "featureId", bool_or("isEnabled") AS "isEnabled", bool_or("isUnlimited") AS "isUnlimited",
           sum("usageLimit") FILTER (WHERE "isEnabled") AS "usageLimit", json_agg(type) AS sources
    FROM sources GROUP BY "featureId"
  ),
  used AS (
    SELECT u."featureId", sum(u.quantity) AS used FROM "UsageRecord" u JOIN c ON u."customerId" = c.id
    WHERE u."timestamp" >= date_trunc('month', now()) GROUP BY u."featureId"
  )
  SELECT f.key AS "featureKey", t."isEnabled", t."isUnlimited", t."usageLimit", t.sources, coalesce(used.used, 0) AS used
  FROM totals t JOIN "Feature" f ON f.id = t."featureId" LEFT JOIN used ON used."featureId" = t."featureId"
  ORDER BY f.key`;

const Q3 = `WITH feature AS (SELECT id FROM "Feature" WHERE "projectId" = $1 AND key = $3), ${SOURCES},
  mine AS (SELECT s.* FROM sources s JOIN feature ON s."featureId" = feature.id)
  SELECT bool_or("isEnabled") AS "isEnabled", bool_or("isUnlimited") AS "isUnlimited",
         sum("usageLimit") FILTER (WHERE "isEnabled") AS "usageLimit",
         (SELECT coalesce(sum(u.quantity), 0) FROM "UsageRecord" u JOIN c ON u."customerId" = c.id JOIN feature ON u."featureId" = feature.id
          WHERE u."timestamp" >= date_trunc('month', now())) AS used
  FROM mine`;

async function main() {
  const projectId = process.env.FLOOR_PROJECT_ID!;
  let query: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;
  if (process.env.FLOOR_DATABASE_URL) {
    const pool = new pg.Pool({ connectionString: process.env.FLOOR_DATABASE_URL, max: 10 });
    query = async (sql, params) => (await pool.query(sql, params)).rows;
  } else {
    const db = new PGlite(process.env.FLOOR_DATA_DIR);
    query = async (sql, params) => (await db.query<Record<string, unknown>>(sql, params)).rows;
  }
  const server = createServer((request, response) => {
    if (request.url === "/healthz") {
      response.end("ok");
      return;
    }
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", async () => {
      try {
        const input = JSON.parse(body) as { customer: string; featureKey?: string };
        let result: unknown;
        if (request.url === "/q1") {
          result = await query(Q1, [projectId, input.customer]);
        } else {
          const [row] = await query(Q3, [projectId, input.customer, input.featureKey]);
          const limit = row?.usageLimit as number | null;
          const allowed = Boolean(row?.isEnabled) && (Boolean(row?.isUnlimited) || Number(row?.used) < Number(limit));
          result = { allowed, ...row };
        }
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ data: result }));
      } catch (error) {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: (error as Error).message }));
      }
    });
  });
  server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    process.stdout.write(`floor listening ${(server.address() as AddressInfo).port}\n`);
  });
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}

void main();
