// Customers: addressed by id or by the project's own externalId; created and updated here.
import { refusingDuplicates } from "../db/errors.ts";
import type { Customer, Prisma } from "../generated/prisma/client.ts";
import type { Loaders } from "../loaders/index.ts";
import { alreadyExists, invalidInput, notFound } from "../errors.ts";
import { invalidatingWrite, requireVisibleCustomer, type ProjectScope } from "./scope.ts";
import { auditedWrite } from "./audit.ts";

export interface CustomerRef {
  id?: string | null;
  externalId?: string | null;
}

/** The referenced customer of the scope's project, or NOT_FOUND / VALIDATION_ERROR naming `field`. */
export async function resolveCustomerRef(scope: ProjectScope, ref: CustomerRef, field: string): Promise<Customer> {
  if (!ref.id === !ref.externalId) throw invalidInput(field, "give exactly one of id or externalId");
  const customer = ref.externalId
    ? await scope.loaders.customerByExternalId.load(ref.externalId)
    : await scope.loaders.customerById.load(ref.id ?? "");
  requireVisibleCustomer(scope, customer?.id);
  if (!customer) throw notFound("Customer", `${field}.${ref.externalId ? "externalId" : "id"}`, ref.externalId ?? undefined);
  return customer;
}

/** A customer the engine already knows exists (by id, batched). */
export async function loadedCustomer(loaders: Loaders, customerId: string): Promise<Customer> {
  const customer = await loaders.customerById.load(customerId);
  if (!customer) throw new Error(`Customer ${customerId} vanished`);
  return customer;
}

export interface CustomerInput {
  name?: string | null;
  email?: string | null;
  metadata?: Prisma.InputJsonValue | null;
}

export async function createCustomer(scope: ProjectScope, input: CustomerInput & { externalId: string }): Promise<Customer> {
  const create = () =>
    auditedWrite(scope, "Customer", (tx) =>
      tx.customer.create({
        data: {
          projectId: scope.projectId,
          externalId: input.externalId,
          name: input.name ?? null,
          email: input.email ?? null,
          metadata: input.metadata ?? undefined,
        },
      }),
    );
  return refusingDuplicates(create, () => alreadyExists("customer", "input.externalId", input.externalId));
}

export async function updateCustomer(scope: ProjectScope, input: CustomerInput & { id: string }): Promise<Customer> {
  // Found first, then updated: an update that changes nothing still answers the customer.
  const owned = await scope.prisma.customer.findFirst({ where: { id: input.id, projectId: scope.projectId }, select: { id: true } });
  if (!owned) throw notFound("Customer", "input.id");
  return invalidatingWrite(scope, { customerIds: [owned.id] }, () =>
    auditedWrite(scope, "Customer", (tx) =>
      tx.customer.update({
        where: { id: owned.id },
        data: { name: input.name, email: input.email, metadata: input.metadata ?? undefined },
      }),
    ),
  );
}
