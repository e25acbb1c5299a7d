// The direction of the layers (docs/architecture.md), checked by `npm run lint`:
//   server/yoga (wiring) → plugins, schema → services → loaders, cache, events, db → domain
// A request walks one way; nothing below the schema knows a request, and the domain knows
// nothing of the project outside itself.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "domain-is-pure",
      comment: "src/domain holds the rules as pure functions: it imports nothing of the project outside itself.",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { path: "^src/", pathNot: "^src/domain/" },
    },
    {
      name: "no-request-below-services",
      comment: "Events, the cache, the loaders, the database layer and outbound HTTP never know a request, the schema or the plugins.",
      severity: "error",
      from: { path: "^src/(events|cache|loaders|db|net)/" },
      to: { path: "^src/(context\\.ts|schema/|plugins/|services/|workers/|yoga\\.ts|server\\.ts)" },
    },
    {
      name: "services-below-the-schema",
      comment: "The application layer serves resolvers and workers alike: it never imports the schema, plugins or request context.",
      severity: "error",
      from: { path: "^src/services/" },
      to: { path: "^src/(context\\.ts|schema/|plugins/|workers/|yoga\\.ts|server\\.ts)" },
    },
    {
      name: "workers-call-services",
      comment: "Workers run without a request: they call the services, never the schema or a request context.",
      severity: "error",
      from: { path: "^src/workers/" },
      to: { path: "^src/(context\\.ts|schema/|plugins/|yoga\\.ts|server\\.ts)" },
    },
    {
      name: "schema-not-wiring",
      comment: "GraphQL types do not reach into server wiring.",
      severity: "error",
      from: { path: "^src/schema/" },
      to: { path: "^src/(yoga\\.ts|server\\.ts|workers/|plugins/)" },
    },
    {
      name: "no-circular",
      comment: "Modules that import each other have no obvious home.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-generated-client-in-domain",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { path: "^node_modules/", pathNot: "^node_modules/(@types/)" },
    },
  ],
  options: {
    doNotFollow: { path: ["node_modules", "^src/generated/"] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".js"],
    },
  },
};
