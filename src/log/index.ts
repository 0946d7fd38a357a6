import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Credentials never reach a log line: anything that can carry one is
 * redacted by path, and callers log identifiers (kid, client_id, jti), never secrets.
 */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
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
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** A logger that drops everything (CLI commands that print their own output, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
