import pino, { type Logger } from 'pino';
import type { Config } from './config';

/**
 * The process logger (JSON lines on stdout). Health data rule: log ids,
 * methods, statuses and timings, never resource contents, query values or
 * tokens.
 */
export function createLogger(level: Config['logLevel']): Logger {
  return pino({ level, base: undefined, redact: ['req.headers.authorization'] });
}
