// Daemon logging (winston). The CNI executable must not import this: winston costs ~40 ms at start-up.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(component: string, opts: { level?: string; file?: string } = {}): Logger {
  const transports: winston.transport[] = [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose'] })];
  if (opts.file) transports.push(new winston.transports.File({ filename: opts.file }));
  return winston.createLogger({
    level: opts.level ?? process.env.TESSERA_LOG_LEVEL ?? 'info',
    defaultMeta: { component },
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.printf(({ timestamp, level, message, component: c, ...rest }) => {
        const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
        return `${String(timestamp)} ${level} [${String(c)}] ${String(message)}${extra}`;
      }),
    ),
    transports,
  });
}
