// Structured logs (JSON lines). Never log API keys, tokens or request bodies.
import { pino } from "pino";

export type Logger = pino.Logger;

/** Logs at `level` to standard output, or to `destination` (tests read what was logged). */
export function createLogger(level: string = process.env.LOG_LEVEL ?? "info", destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    redact: { paths: ["*.authorization", "*.apiKey", "*.secret", "*.token", "*['x-api-key']"], censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
