import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Credentials never reach a log line: anything that can carry one is
 * redacted by path, and callers log identifiers (kid, client_id, jti), never secrets.
 */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  // Pretty lines only for a person at a terminal who has not asked for JSON; never in production.
  const pretty = !options.destination && process.stdout.isTTY && process.env.LOG_FORMAT !== 'json' && process.env.NODE_ENV !== 'production';
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
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

/** A logger that drops everything (CLI commands that print their own output, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
