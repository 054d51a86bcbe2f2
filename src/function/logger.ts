/**
 * Structured JSON logs (Powertools Logger, one JSON object per line). `write` redirects the lines, so
 * tests can read exactly what would reach CloudWatch without patching process.stdout.
 */
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { LogLevel } from './config.ts';

export const SERVICE_NAME = 'review-sentiment';

export interface LoggerOptions {
  level: LogLevel;
  /** Receives each formatted log line; default: Powertools' own console (stdout in Lambda). */
  write?: (line: string) => void;
}

class LineLogger extends Logger {
  // Not a #private field: Logger's constructor may print (buffered init warnings) before it is assigned.
  write: ((line: string) => void) | undefined;

  protected override printLog(logLevel: number, log: LogItem): void {
    if (!this.write) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    this.write(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const logger = new LineLogger({ serviceName: SERVICE_NAME, logLevel: options.level });
  logger.write = options.write;
  return logger;
}

/** The `{ info, error }(message, extra?: object)` shape the model service takes, backed by `logger`. */
export function plainLogger(logger: Logger): {
  info(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
} {
  return {
    info: (message, extra) => logger.info(message, { ...extra }),
    error: (message, extra) => logger.error(message, { ...extra }),
  };
}
