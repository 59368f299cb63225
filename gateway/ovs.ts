// The node's Open vSwitch: bridges, ports and Open_vSwitch external_ids through ovs-vsctl, OpenFlow through ovs-ofctl.
// One-shot node plumbing; ovs-vsctl's --may-exist/--if-exists make each call idempotent.
import { run } from './sys.js';
import { INTEGRATION_BRIDGE, OWNER_KEY } from '../lib/ovn/names.js';

export interface OvsTarget {
  /** OVSDB remote of the node's Open_vSwitch database, e.g. unix:/var/run/openvswitch/db.sock. */
  db: string;
  /** Directory holding the bridges' OpenFlow management sockets (<bridge>.mgmt). */
  rundir: string;
}

export const OWNER_VALUE = 'tessera-gateway';

export type DatapathType = 'netdev' | 'system';

/**
 * The datapath for the gateway's bridge: the one br-int uses, since a patch port only joins bridges of the same
 * datapath. Before ovn-controller has created br-int, its hint `external_ids:ovn-bridge-datapath-type` says which
 * one it will use. OVS treats an empty datapath_type as "system" (the kernel datapath).
 */
export function gatewayDatapathType(brInt: string | undefined, ovnHint?: string): DatapathType {
  const t = brInt !== undefined ? brInt : (ovnHint ?? '');
  return t === 'netdev' ? 'netdev' : 'system';
}

/** ovs-vsctl arguments that create `bridge` on `datapath` with `nic` as its port and the NIC's MAC on LOCAL. */
export function bridgeWithNicArgs(bridge: string, nic: string, mac: string, datapath: DatapathType): string[] {
  return [
    '--may-exist', 'add-br', bridge,
    '--', 'set', 'Bridge', bridge, `datapath_type=${datapath}`, `other_config:hwaddr="${mac}"`, `external_ids:"${OWNER_KEY}"=${OWNER_VALUE}`,
    '--', '--may-exist', 'add-port', bridge, nic,
    '--', 'set', 'Port', nic, `external_ids:"${OWNER_KEY}"=${OWNER_VALUE}`,
  ];
}

export class Ovs {
  constructor(readonly t: OvsTarget) {}

  vsctl(args: string[]): Promise<string> {
    return run('ovs-vsctl', [`--db=${this.t.db}`, '--timeout=30', ...args]);
  }

  ofctl(args: string[], input?: string): Promise<string> {
    return run('ovs-ofctl', ['-O', 'OpenFlow13', ...args], input !== undefined ? { input } : {});
  }

  mgmt(bridge: string): string {
    return `unix:${this.t.rundir}/${bridge}.mgmt`;
  }

  async bridgeExists(bridge: string): Promise<boolean> {
    try {
      await this.vsctl(['br-exists', bridge]);
      return true;
    } catch {
      return false;
    }
  }

  async portsOf(bridge: string): Promise<string[]> {
    const out = await this.vsctl(['list-ports', bridge]);
    return out.split('\n').filter((l) => l !== '');
  }

  /** Creates a bridge owning `nic` on `datapath`; the bridge's LOCAL port takes the NIC's MAC so peers' ARP caches stay valid. */
  async addBridgeWithNic(bridge: string, nic: string, mac: string, datapath: DatapathType): Promise<void> {
    await this.vsctl(bridgeWithNicArgs(bridge, nic, mac, datapath));
  }

  /** The datapath br-int uses (or will use, per ovn-controller's hint), for the gateway's bridge. */
  async detectDatapathType(): Promise<DatapathType> {
    const brInt = (await this.bridgeExists(INTEGRATION_BRIDGE))
      ? (await this.vsctl(['get', 'Bridge', INTEGRATION_BRIDGE, 'datapath_type'])).trim().replace(/"/g, '')
      : undefined;
    return gatewayDatapathType(brInt, await this.getOvsExternalId('ovn-bridge-datapath-type'));
  }

  async delBridge(bridge: string): Promise<void> {
    await this.vsctl(['--if-exists', 'del-br', bridge]);
  }

  async getOvsExternalId(key: string): Promise<string | undefined> {
    const out = (await this.vsctl(['--if-exists', 'get', 'Open_vSwitch', '.', `external_ids:"${key}"`])).trim();
    if (out === '') return undefined;
    return out.startsWith('"') ? (JSON.parse(out) as string) : out;
  }

  async setOvsExternalId(key: string, value: string): Promise<void> {
    await this.vsctl(['set', 'Open_vSwitch', '.', `external_ids:"${key}"="${value}"`]);
  }

  async removeOvsExternalId(key: string): Promise<void> {
    await this.vsctl(['remove', 'Open_vSwitch', '.', 'external_ids', key]);
  }

  /** OpenFlow port number of `iface`, once vswitchd has assigned one. */
  async ofport(iface: string): Promise<number | undefined> {
    const out = (await this.vsctl(['--if-exists', 'get', 'Interface', iface, 'ofport'])).trim();
    const n = Number(out);
    return out !== '' && Number.isInteger(n) && n > 0 ? n : undefined;
  }

  /** Name of the patch port ovn-controller plugged into `bridge` for a localnet port, if any. */
  async patchPortOn(bridge: string): Promise<string | undefined> {
    for (const p of await this.portsOf(bridge)) {
      const type = (await this.vsctl(['--if-exists', 'get', 'Interface', p, 'type'])).trim();
      if (type === 'patch') return p;
    }
    return undefined;
  }

  /** Atomically replaces every flow on `bridge` with `flows` (one bundle), so the bridge never runs half-programmed. */
  async replaceFlows(bridge: string, flows: string[]): Promise<void> {
    await this.ofctl(['--bundle', 'replace-flows', this.mgmt(bridge), '-'], flows.join('\n') + '\n');
  }

  /** The bridge's flows, or only those matching `match` (e.g. `cookie=0x1/-1`). */
  async dumpFlows(bridge: string, match?: string): Promise<string> {
    return this.ofctl(['dump-flows', this.mgmt(bridge), ...(match ? [match] : [])]);
  }
}
