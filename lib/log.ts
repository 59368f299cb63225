// Daemon logging (winston). The CNI executable must not import this: winston costs ~40 ms at start-up.
// Logs go to the standard error stream, as Kubernetes components do (klog); the container runtime or journald
// keeps and rotates them. --log-file adds a plain file, appended to and never rotated by Tessera.
import winston from 'winston';
import { envLogLevel, logSettings, type LogFormat, type LogLevel } from './log-settings.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  /** Default: --log-level, else $TESSERA_LOG_LEVEL, else info. */
  level?: LogLevel;
  /** Default: --log-format, else text. */
  format?: LogFormat;
  file?: string;
  /** Where the console lines go (tests); default the process's stderr. */
  stream?: NodeJS.WritableStream;
}

const textLine = winston.format.printf(({ timestamp, level, message, component: c, ...rest }) => {
  const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
  return `${String(timestamp)} ${level} [${String(c)}] ${String(message)}${extra}`;
});

export function createLogger(component: string, opts: LoggerOptions = {}): Logger {
  const settings = logSettings();
  const format = opts.format ?? settings.format ?? 'text';
  const console = opts.stream
    ? new winston.transports.Stream({ stream: opts.stream })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose'] });
  const transports: winston.transport[] = [console];
  if (opts.file) transports.push(new winston.transports.File({ filename: opts.file }));
  return winston.createLogger({
    level: opts.level ?? settings.level ?? envLogLevel() ?? 'info',
    defaultMeta: { component },
    format: winston.format.combine(winston.format.timestamp(), format === 'json' ? winston.format.json() : textLine),
    transports,
  });
}
