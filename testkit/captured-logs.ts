import { createLogger, type Logger, type LoggerOptions } from '../common/log.js';
import { noteLogLine } from './recent-logs.js';

/** A log destination that parses each JSON line into `logs` (and keeps it for a failed test's report). */
export function capturingDestination(logs: Array<Record<string, unknown>>): { write(line: string): void } {
  return {
    write: (line: string) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      logs.push(parsed);
      noteLogLine(parsed);
    },
  };
}

/** A logger (level info unless told) whose JSON lines are parsed into `logs`, for tests that assert on log lines. */
export function capturedLogger(options: Omit<LoggerOptions, 'destination'>): {
  logger: Logger;
  logs: Array<Record<string, unknown>>;
} {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', ...options, destination: capturingDestination(logs) });
  return { logger, logs };
}
