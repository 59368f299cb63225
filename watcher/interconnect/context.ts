// What the interconnect controller's parts share: its dependencies, status and the context its reconcile steps
// (apply.ts, teardown.ts) run in.
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.js';
import type { OvsdbClient, TlsOptions } from '../../lib/ovsdb/index.js';
import type { NBTables } from '../../lib/ovsdb/models/nb.js';
import type { SBTables } from '../../lib/ovsdb/models/sb.js';
import type { ICNBTables } from '../../lib/ovsdb/models/icnb.js';
import type { ICSBTables } from '../../lib/ovsdb/models/icsb.js';
import type { OvnIcDaemon } from '../../lib/ovnic/daemon.js';
import type { TsPortAddress } from '../../lib/ovn/interconnect.js';
import type { IcConfig } from './config.js';
import type { IcKube } from './kube.js';

export interface InterconnectDeps {
  kube: KubeConfig;
  /** This cluster's OVN NB and SB remotes (every Raft member); also handed to ovn-ic. */
  nbRemotes: string[];
  sbRemotes: string[];
  /** Directory for the managed ovn-ic (pidfile, ctl, log): `<runDir>/ovn-ic/`. */
  runDir: string;
  logger: Logger;
  /** "managed" (default): the watcher runs ovn-ic; "external": something else runs it, pointed at the same DBs. */
  ovnIc?: 'managed' | 'external';
  ovnIcBinary?: string;
  tls?: TlsOptions;
  /** Periodic full reconcile (default 15000 ms). */
  resyncMs?: number;
}

export type IcState = 'disabled' | 'invalid' | 'waiting' | 'connected';

export interface IcStatus {
  state: IcState;
  message: string;
  az?: string;
  /** The transit switch this AZ is attached to (ovn-ic-config `ts-name`, default `ts`). */
  ts?: string;
  localPort?: TsPortAddress;
  /** Other AZs' ts ports: AZ name, port name, IP. */
  remotePorts: { az: string; port: string; ip: string; address: string }[];
  denylist: string[];
  overlaps: string[];
  refused?: string;
}

export interface InterconnectController {
  stop(): Promise<void>;
  status(): IcStatus;
  /** Runs one reconcile now (tests and debugging). */
  reconcileNow(): Promise<void>;
  /** The managed ovn-ic, if any (tests read its pid/log). */
  readonly ovnIc?: OvnIcDaemon;
}

export type Nb = OvsdbClient<NBTables>;
export type Sb = OvsdbClient<SBTables>;
export type IcNb = OvsdbClient<ICNBTables>;
export type IcSb = OvsdbClient<ICSBTables>;

export interface IcConn {
  key: string;
  icnb?: IcNb;
  icsb?: IcSb;
  error?: string;
  closed: boolean;
}

/** The controller as its reconcile steps see it. */
export interface IcContext {
  readonly deps: InterconnectDeps;
  readonly log: Logger;
  readonly nb: Nb;
  readonly sb: Sb;
  readonly kube: IcKube;
  readonly ovnIc?: OvnIcDaemon;
  st: IcStatus;
  /** Reports already made, so a steady state does not flood Events. */
  readonly reported: Set<string>;
  labelsSynced?: { key: string; at: number; missing: string[] };
  /** The current IC-NB/IC-SB connection, if any. */
  readonly ic?: IcConn;
  /** The IC-NB/IC-SB clients for this config, connecting in the background. */
  icConn(config: IcConfig): IcConn;
  closeIc(): void;
  reportOnce(cm: V1ConfigMap, type: 'Normal' | 'Warning', reason: string, message: string, key?: string): Promise<void>;
  setStatus(s: IcStatus): void;
}
