// Structured logs (JSON lines). Never log API keys, tokens or request bodies.
import { pino } from "pino";

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ["*.authorization", "*.apiKey", "*.secret", "*.token", "*['x-api-key']"], censor: "[redacted]" },
  });
}
