// Projects (tenants) and their first ADMIN key: used by start-up, the operator's
// `project:create` command and the tests.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { generateApiKeySecret, hashApiKey, visiblePrefix } from "./api-keys.ts";
import { uniqueViolationFields } from "../db/errors.ts";

export interface CreatedProject {
  projectId: string;
  name: string;
  /** The ADMIN key's secret; shown once. */
  secret: string;
}

export async function createProjectWithAdminKey(
  prisma: PrismaClient,
  name: string,
  secret: string = generateApiKeySecret(),
): Promise<CreatedProject> {
  const project = await prisma.project.create({
    data: {
      name,
      apiKeys: {
        create: { name: "admin", prefix: visiblePrefix(secret), hash: hashApiKey(secret), scopes: ["ADMIN"] },
      },
    },
  });
  return { projectId: project.id, name: project.name, secret };
}

export type StartupKey =
  | { kind: "bootstrap"; projectId: string; created: boolean }
  | { kind: "first-start"; projectId: string; secret: string }
  | { kind: "none" };

/**
 * On start: with BOOTSTRAP_API_KEY, make sure a default project holds that ADMIN key;
 * without it, create a default project with a fresh key when the database has no project.
 */
export async function ensureStartupKey(prisma: PrismaClient, bootstrapKey: string | undefined): Promise<StartupKey> {
  if (bootstrapKey) {
    const existing = () => prisma.apiKey.findUnique({ where: { hash: hashApiKey(bootstrapKey) } });
    const found = await existing();
    if (found) return { kind: "bootstrap", projectId: found.projectId, created: false };
    try {
      const project = await createProjectWithAdminKey(prisma, "default", bootstrapKey);
      return { kind: "bootstrap", projectId: project.projectId, created: true };
    } catch (error) {
      // Another instance starting on the same database created it first.
      const raced = uniqueViolationFields(error) ? await existing() : null;
      if (!raced) throw error;
      return { kind: "bootstrap", projectId: raced.projectId, created: false };
    }
  }
  if ((await prisma.project.count()) > 0) return { kind: "none" };
  const project = await createProjectWithAdminKey(prisma, "default");
  return { kind: "first-start", projectId: project.projectId, secret: project.secret };
}
