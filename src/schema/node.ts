// `node` and `nodes`: any object by global ID, within the caller's project only.
import { builder } from "./builder.ts";

// Registered through the relay plugin's options (src/schema/builder.ts); nothing to add here
// but the guarantee, tested in test/api, that a foreign or unknown ID answers NOT_FOUND.
export {};
