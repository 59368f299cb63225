// The --log-level and --log-format flags every command takes (lib/cli.ts parses them, lib/log.ts applies them).
// Kept apart from lib/log.ts so that parsing flags does not load winston.

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogSettings {
  level?: LogLevel;
  format?: LogFormat;
}

export const LOG_FLAGS = {
  'log-level': { type: 'string', help: `least severe level logged: ${LOG_LEVELS.join(', ')} (default info, or $TESSERA_LOG_LEVEL)` },
  'log-format': { type: 'string', help: `${LOG_FORMATS.join(' or ')}: json writes one JSON object a line (level, message, component, timestamp, fields)`, default: 'text' },
} as const;

let current: LogSettings = {};

/** The settings the command's flags chose; loggers created without an explicit level or format follow them. */
export function logSettings(): LogSettings {
  return current;
}

const isLevel = (v: unknown): v is LogLevel => (LOG_LEVELS as readonly unknown[]).includes(v);
const isFormat = (v: unknown): v is LogFormat => (LOG_FORMATS as readonly unknown[]).includes(v);

/** Validates the flags' values and makes them the process's settings; returns a one-line error instead. */
export function applyLogFlags(values: Record<string, unknown>): string | undefined {
  const level = values['log-level'];
  const format = values['log-format'];
  if (level !== undefined && !isLevel(level)) return `--log-level "${String(level)}" must be one of ${LOG_LEVELS.join(', ')}`;
  if (format !== undefined && !isFormat(format)) return `--log-format "${String(format)}" must be one of ${LOG_FORMATS.join(', ')}`;
  current = { ...(level !== undefined ? { level } : {}), ...(format !== undefined ? { format } : {}) };
  return undefined;
}

/** $TESSERA_LOG_LEVEL when it names a level (the lab and tests set it), else undefined. */
export function envLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel | undefined {
  const v = env.TESSERA_LOG_LEVEL;
  return isLevel(v) ? v : undefined;
}
