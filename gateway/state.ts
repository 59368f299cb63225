// What the gateway changed on the node outside NB, recorded so cleanup can restore it exactly after any restart.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodeState {
  node: string;
  mode: 'dedicated' | 'shared';
  bridge: string;
  /** Dedicated mode: the NIC put into the bridge by init (cleanup undoes its nics-to-bridge plan). */
  physicalInterface?: string;
  physicalNetwork: string;
  /** Open_vSwitch external_ids:ovn-bridge-mappings before init touched it (null: it was unset). */
  mappingsBefore: string | null;
  /** Shared mode: rp_filter of the bridge's NIC before the gateway made it strict. */
  rpFilterBefore?: { nic: string; value: string };
}

export class NodeStateStore {
  constructor(readonly dir: string) {}
  path(node: string): string {
    return join(this.dir, `gateway-${node}.json`);
  }
  load(node: string): NodeState | undefined {
    const p = this.path(node);
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as NodeState) : undefined;
  }
  save(s: NodeState): void {
    mkdirSync(this.dir, { recursive: true });
    const p = this.path(s.node);
    writeFileSync(`${p}.tmp`, JSON.stringify(s, null, 2));
    renameSync(`${p}.tmp`, p);
  }
  remove(node: string): void {
    rmSync(this.path(node), { force: true });
  }
}

/** `ovn-bridge-mappings` with `network:bridge` set (replacing an older mapping of the same network). */
export function withMapping(mappings: string | undefined, network: string, bridge: string): string {
  const entries = (mappings ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '' && e.split(':')[0] !== network);
  return [...entries, `${network}:${bridge}`].join(',');
}
