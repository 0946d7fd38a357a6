import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Credentials never reach a log line: anything that can carry one is
 * redacted by path, and callers log identifiers (kid, client_id, jti), never secrets.
 */
export interface LoggerOptions {
  /** LOG_LEVEL; default info. */
  level?: string;
  /** LOG_FORMAT; default: pretty for a person at a terminal outside production, JSON lines otherwise. */
  format?: 'json' | 'pretty' | undefined;
  /** NODE_ENV=production: never pretty unless asked for. */
  production?: boolean;
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const pretty = !options.destination && (options.format ?? (process.stdout.isTTY && !options.production ? 'pretty' : 'json')) === 'pretty';
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'portcullis' },
      redact: {
        paths: [
          'password', '*.password', 'token', '*.token', 'access_token', '*.access_token',
          'refresh_token', '*.refresh_token', 'code', '*.code', 'client_secret', '*.client_secret',
          'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? (pretty ? pino.transport({ target: 'pino-pretty', options: { colorize: true } }) : pino.destination({ sync: false })),
  );
}

/** The logger the settings ask for (LOG_LEVEL, LOG_FORMAT, NODE_ENV); a Config fits. */
export function configuredLogger(settings: { logLevel: string; logFormat?: 'json' | 'pretty' | undefined; nodeEnv: string }): Logger {
  return createLogger({ level: settings.logLevel, format: settings.logFormat, production: settings.nodeEnv === 'production' });
}

/** A logger that drops everything (CLI commands that print their own output, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
