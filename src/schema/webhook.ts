// Webhook endpoints and their deliveries (ADMIN). The signing secret is shown once, by
// createWebhookEndpoint and rotateWebhookSecret, and by no other field.
import { z } from "zod";
import { builder } from "./builder.ts";
import { EventTypeEnum } from "./enums.ts";
import { globalId, longText } from "./inputs.ts";
import { asSelected } from "./lookup.ts";
import { projectIdOf, scopeOf } from "../context.ts";
import { type WebhookDeliveryStatus, WebhookEndpointStatus } from "../generated/prisma/enums.ts";
import * as webhooks from "../services/webhooks.ts";

const WebhookEndpointStatusEnum = builder.enumType(WebhookEndpointStatus, { name: "WebhookEndpointStatus" });

const WebhookDeliveryStatusEnum = builder.enumType("WebhookDeliveryStatus", {
  values: {
    PENDING: { description: "Not delivered yet; attempts continue on the retry schedule." },
    SUCCEEDED: { description: "The endpoint answered 2xx." },
    FAILED: { description: "Every attempt of the retry schedule failed; retryWebhookDelivery queues it again." },
  } satisfies Record<WebhookDeliveryStatus, object>,
});

const WebhookDeliveryNode = builder.prismaNode("WebhookDelivery", {
  id: { field: "id" },
  findUnique: (id, context) => ({ id, endpoint: { projectId: projectIdOf(context) } }),
  authScopes: { admin: true },
  runScopesOnType: true,
  fields: (t) => ({
    endpoint: t.relation("endpoint"),
    eventId: t.id({
      description: "The id of the logged event it carries (also the `webhook-id` header).",
      resolve: (delivery) => delivery.eventId.toString(),
    }),
    eventType: t.field({
      type: EventTypeEnum,
      select: { event: { select: { type: true } } },
      resolve: (delivery) => delivery.event.type,
    }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (delivery) => delivery.status }),
    attempts: t.exposeInt("attempts"),
    lastAttemptAt: t.expose("lastAttemptAt", { type: "DateTime", nullable: true }),
    nextAttemptAt: t.expose("nextAttemptAt", { type: "DateTime", nullable: true }),
    lastResponseStatus: t.exposeInt("lastResponseStatus", {
      nullable: true,
      description: "The HTTP status of the last attempt; null when it got no answer.",
    }),
    lastError: t.exposeString("lastError", {
      nullable: true,
      description: "Why the last attempt failed (timeout, refused, status), in words.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const WebhookDeliveryConnection = builder.connectionObject(
  { type: WebhookDeliveryNode, name: "WebhookDeliveryConnection" },
  { name: "WebhookDeliveryEdge" },
);

const WebhookEndpointNode = builder.prismaNode("WebhookEndpoint", {
  id: { field: "id" },
  findUnique: (id, context) => ({ id, projectId: projectIdOf(context) }),
  authScopes: { admin: true },
  runScopesOnType: true,
  fields: (t) => ({
    url: t.exposeString("url"),
    description: t.exposeString("description", { nullable: true }),
    eventTypes: t.field({ type: [EventTypeEnum], resolve: (endpoint) => endpoint.eventTypes }),
    status: t.field({ type: WebhookEndpointStatusEnum, resolve: (endpoint) => endpoint.status }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    deliveries: t.relatedConnection(
      "deliveries",
      {
        cursor: "id",
        totalCount: true,
        description: "The endpoint's deliveries, newest first; `status` keeps only those in one of the statuses.",
        args: { status: t.arg({ type: [WebhookDeliveryStatusEnum] }) },
        // Newest event first: one delivery per event, so the event id orders them (delivery ids are random).
        query: (args) => ({ where: args.status?.length ? { status: { in: args.status } } : {}, orderBy: { eventId: "desc" } }),
      },
      WebhookDeliveryConnection,
    ),
  }),
});

const WebhookEndpointConnection = builder.connectionObject(
  { type: WebhookEndpointNode, name: "WebhookEndpointConnection" },
  { name: "WebhookEndpointEdge" },
);

const CreatedWebhookEndpoint = builder.objectRef<webhooks.CreatedEndpoint>("CreatedWebhookEndpoint").implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointNode, resolve: (created) => created.endpoint }),
    signingSecret: t.exposeString("signingSecret", {
      description: "The signing secret (Standard Webhooks format, whsec_...), shown only here.",
    }),
  }),
});

const url = z.string().trim().min(1, "must not be empty").max(2048, "must be at most 2048 characters");
const eventTypes = z.array(z.enum(["ENTITLEMENTS_CHANGED", "USAGE_THRESHOLD_REACHED"])).min(1, "give at least one event type");

const CreateWebhookEndpointInput = builder.inputType("CreateWebhookEndpointInput", {
  fields: (t) => ({
    url: t.string({ required: true }).validate(url),
    description: t.string().validate(longText(1000).nullish()),
    eventTypes: t.field({ type: [EventTypeEnum], description: "Default: every EventType." }).validate(eventTypes.nullish()),
  }),
});

const UpdateWebhookEndpointInput = builder.inputType("UpdateWebhookEndpointInput", {
  fields: (t) => ({
    id: t.id({ required: true }).validate(globalId("WebhookEndpoint")),
    url: t.string().validate(url.nullish()),
    description: t.string().validate(longText(1000).nullish()),
    eventTypes: t.field({ type: [EventTypeEnum] }).validate(eventTypes.nullish()),
    status: t.field({ type: WebhookEndpointStatusEnum }),
  }),
});

builder.queryField("webhookEndpoints", (t) =>
  t.prismaConnection(
    {
      type: "WebhookEndpoint",
      cursor: "id",
      authScopes: { admin: true },
      description: "The project's webhook endpoints, oldest first (ADMIN).",
      resolve: (query, _root, _args, context) =>
        context.prisma.webhookEndpoint.findMany({ ...query, where: { projectId: projectIdOf(context) } }),
      totalCount: (_root, _args, context) => context.prisma.webhookEndpoint.count({ where: { projectId: projectIdOf(context) } }),
    },
    WebhookEndpointConnection,
  ),
);

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: CreatedWebhookEndpoint,
    authScopes: { admin: true },
    description: "ADMIN. The signing secret is shown once.",
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    resolve: (_root, { input }, context) => webhooks.createWebhookEndpoint(scopeOf(context), context.webhookAddresses, input),
  }),
  updateWebhookEndpoint: t.prismaField({
    type: "WebhookEndpoint",
    authScopes: { admin: true },
    description: "ADMIN.",
    args: { input: t.arg({ type: UpdateWebhookEndpointInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await webhooks.updateWebhookEndpoint(scopeOf(context), context.webhookAddresses, input), (selected) =>
        context.prisma.webhookEndpoint.findUniqueOrThrow(selected),
      ),
  }),
  rotateWebhookSecret: t.field({
    type: CreatedWebhookEndpoint,
    authScopes: { admin: true },
    description: "ADMIN: a new signing secret, shown once; the old one stops signing at once.",
    args: { id: t.arg.id({ required: true }).validate(globalId("WebhookEndpoint")) },
    resolve: (_root, args, context) => webhooks.rotateWebhookSecret(scopeOf(context), args.id),
  }),
  retryWebhookDelivery: t.prismaField({
    type: "WebhookDelivery",
    authScopes: { admin: true },
    description: "ADMIN: queues a delivery again (typically a FAILED one), attempts counted afresh.",
    args: { id: t.arg.id({ required: true }).validate(globalId("WebhookDelivery")) },
    resolve: async (query, _root, args, context) =>
      asSelected(query, await webhooks.retryWebhookDelivery(scopeOf(context), args.id), (selected) =>
        context.prisma.webhookDelivery.findUniqueOrThrow(selected),
      ),
  }),
}));
