/** Progress goes to stderr: stdout is the report (the table, then the BENCH line). */
export const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
