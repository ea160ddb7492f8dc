import { createLogger, type Logger, type LoggerOptions } from '../common/log.js';

/** A logger (level info unless told) whose JSON lines are parsed into `logs`, for tests that assert on log lines. */
export function capturedLogger(options: Omit<LoggerOptions, 'destination'>): {
  logger: Logger;
  logs: Array<Record<string, unknown>>;
} {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'info',
    ...options,
    destination: { write: (line: string) => void logs.push(JSON.parse(line)) },
  });
  return { logger, logs };
}
