// Structured logs (JSON lines). Never log API keys, tokens or request bodies.
import { pino } from "pino";

export type Logger = pino.Logger;

/** Fields that may hold a credential, redacted wherever they are logged, up to three objects down (`req.headers.authorization`). */
const CREDENTIAL_FIELDS = ["authorization", "apiKey", "secret", "signingSecret", "token", "x-api-key", "webhook-signature"];
const REDACTED_PATHS = CREDENTIAL_FIELDS.flatMap((field) => {
  const key = /^[A-Za-z_]\w*$/.test(field) ? field : `["${field}"]`;
  const below = key.startsWith("[") ? key : `.${key}`;
  return [key, `*${below}`, `*.*${below}`, `*.*.*${below}`];
});

/** Logs at `level` to standard output, or to `destination` (tests read what was logged). */
export function createLogger(level: string = process.env.LOG_LEVEL ?? "info", destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
