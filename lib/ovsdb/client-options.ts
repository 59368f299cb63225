// What an OvsdbClient is configured with: remotes and timeouts, the logger it writes to, and what to monitor.
import type { TableName, TablesShape } from './schema.js';
import type { TlsOptions } from './remote.js';
import type { Condition } from './ops.js';

/** The subset of a winston logger the client uses. */
export interface OvsdbLogger {
  debug(msg: string): unknown;
  info(msg: string): unknown;
  warn(msg: string): unknown;
  error(msg: string): unknown;
}

export interface ClientOptions {
  /** `unix:PATH`, `tcp:HOST:PORT`, `ssl:HOST:PORT`; an array or a comma list. Tried in turn. */
  remotes: string[] | string;
  /** For clustered databases, only stay on the Raft leader (default true). Ignored for standalone databases. */
  leaderOnly?: boolean;
  /** Send an echo after this much silence and drop the connection after as much again (default 5000; 0 = off). */
  probeIntervalMs?: number;
  /** Key, certificate and CA (PEM text or file paths) for ssl: remotes. */
  tls?: TlsOptions;
  /** Reconnect backoff: doubles from minMs to maxMs after each round of failed remotes (defaults 200 / 8000). */
  reconnect?: { minMs?: number; maxMs?: number };
  /** Per attempt: TCP/TLS connect and the first exchanges (default 5000). */
  connectTimeoutMs?: number;
  /** How long `connect()` keeps trying before it rejects (default 30000). */
  initialTimeoutMs?: number;
  /** Default timeout of transact and other requests (default 30000). */
  requestTimeoutMs?: number;
  logger?: OvsdbLogger;
}

export interface TableMonitor<R> {
  columns?: (keyof R & string)[];
  where?: Condition<R>[];
}

export type MonitorSpec<T extends TablesShape<T>> = TableName<T>[] | { [K in TableName<T>]?: TableMonitor<T[K]> };

export const silentLogger: OvsdbLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
