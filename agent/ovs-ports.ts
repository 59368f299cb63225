// br-int port operations on the node's Open_vSwitch database, through the OVSDB client and its monitor cache.
// A pod port is one transaction (Interface + Port + Bridge.ports mutate); Port and Interface are non-root tables,
// so removing the Port from Bridge.ports garbage-collects both rows.
import { OvsdbClient, ref, type OvsdbLogger, type TlsOptions } from '../lib/ovsdb/index.js';
import { VSWITCH_MODEL, type Bridge, type Interface, type Port, type VSWITCHTables } from '../lib/ovsdb/models/vswitch.js';
import { INTEGRATION_BRIDGE } from '../lib/ovn/names.js';

export type VswitchClient = OvsdbClient<VSWITCHTables>;

/** external_ids keys on a pod's OVS Interface (iface-id etc. are ovn-controller's; the last is ours). */
export const IFACE_ID = 'iface-id';
export const IFACE_ID_VER = 'iface-id-ver';
export const ATTACHED_MAC = 'attached_mac';
export const IP_ADDRESSES = 'ip_addresses';
export const SANDBOX = 'sandbox';
export const IFNAME_KEY = 'tessera.io/ifname';
/** The pod's logical switch: scopes the agent's same-address check to one network (agent/annotation-check.ts). */
export const LOGICAL_SWITCH_KEY = 'tessera.io/logical-switch';
export const OVN_INSTALLED = 'ovn-installed';
/** The pod's own port name `<ns>_<pod>` when iface-id is something else (a Neutron port id). */
export const POD_PORT_KEY = 'tessera.io/pod-port';

/** The `<ns>_<pod>` an interface was made for: its own key, else its iface-id. */
export const podPortOf = (ids: Record<string, string>): string => ids[POD_PORT_KEY] ?? ids[IFACE_ID] ?? '';

export async function connectVswitch(remote: string, logger?: OvsdbLogger, tls?: TlsOptions): Promise<VswitchClient> {
  const c = await OvsdbClient.connect(VSWITCH_MODEL, { remotes: [remote], tls, logger, reconnect: { minMs: 100, maxMs: 2000 } });
  await c.monitor({
    Open_vSwitch: { columns: ['bridges', 'external_ids', 'next_cfg', 'cur_cfg'] },
    Bridge: { columns: ['name', 'ports', 'datapath_type'] },
    Port: { columns: ['name', 'interfaces'] },
    Interface: { columns: ['name', 'type', 'external_ids', 'ofport', 'ifindex', 'mac', 'mtu_request', 'error'] },
  });
  return c;
}

export interface PodPortSpec {
  name: string;
  ifaceId: string;
  mac: string;
  ipAddresses: string[];
  sandbox: string;
  podUid: string;
  ifname: string;
  /** Set when ifaceId is not `<ns>_<pod>` (a Neutron port id): the pod the port belongs to. */
  podPort?: string;
  /** Absent on ports wired by an agent that did not record it. */
  logicalSwitch?: string;
}

export class OvsPorts {
  /** Pod ports this agent made (or found for live pods) and has not removed: what port repair restores. */
  private readonly wantedPorts = new Map<string, PodPortSpec>();

  constructor(readonly ovs: VswitchClient) {}

  /** The spec of a pod port this agent keeps, if any. */
  wanted(name: string): PodPortSpec | undefined {
    return this.wantedPorts.get(name);
  }

  /** Adopts an existing pod port (a restarted agent, for pods that still exist) from its external_ids. */
  adopt(iface: Interface): void {
    const e = iface.external_ids;
    if (this.wantedPorts.has(iface.name) || !e[IFACE_ID] || !e[SANDBOX] || !e[IFNAME_KEY]) return;
    this.wantedPorts.set(iface.name, {
      name: iface.name, ifaceId: e[IFACE_ID], mac: e[ATTACHED_MAC] ?? '', ipAddresses: (e[IP_ADDRESSES] ?? '').split(',').filter(Boolean),
      sandbox: e[SANDBOX], podUid: e[IFACE_ID_VER] ?? '', ifname: e[IFNAME_KEY], ...(e[POD_PORT_KEY] ? { podPort: e[POD_PORT_KEY] } : {}),
      ...(e[LOGICAL_SWITCH_KEY] ? { logicalSwitch: e[LOGICAL_SWITCH_KEY] } : {}),
    });
  }

  forget(name: string): void {
    this.wantedPorts.delete(name);
  }

  /** The external_ids a pod port carries for its spec (ovn-controller adds its own keys next to them). */
  static podIds(p: PodPortSpec): Record<string, string> {
    return {
      [IFACE_ID]: p.ifaceId,
      [ATTACHED_MAC]: p.mac,
      [IP_ADDRESSES]: p.ipAddresses.join(','),
      [SANDBOX]: p.sandbox,
      [IFACE_ID_VER]: p.podUid,
      [IFNAME_KEY]: p.ifname,
      ...(p.podPort ? { [POD_PORT_KEY]: p.podPort } : {}),
      ...(p.logicalSwitch ? { [LOGICAL_SWITCH_KEY]: p.logicalSwitch } : {}),
    };
  }

  /** Sets the keys of podIds back on an existing interface, leaving other keys (ovn-installed) as they are. */
  async restoreIds(p: PodPortSpec): Promise<void> {
    const iface = this.iface(p.name);
    if (!iface) return;
    await this.ovs.transact([this.ovs.op.update('Interface', [['_uuid', '==', iface._uuid]], { external_ids: { ...iface.external_ids, ...OvsPorts.podIds(p) } })]);
  }

  bridge(name = INTEGRATION_BRIDGE): Bridge | undefined {
    return this.ovs.cache.lookup('Bridge', 'name', name);
  }

  /** Waits (bounded) for ovn-controller to create br-int. */
  waitBridge(timeoutMs: number, name = INTEGRATION_BRIDGE): Promise<Bridge> {
    return this.ovs.waitFor('Bridge', (b) => b.name === name, timeoutMs);
  }

  /** True when br-int uses the userspace datapath: veths feeding it need tx checksum offload off. */
  isNetdev(): boolean {
    return this.bridge()?.datapath_type === 'netdev';
  }

  iface(name: string): Interface | undefined {
    return this.ovs.cache.lookup('Interface', 'name', name);
  }

  port(name: string): Port | undefined {
    return this.ovs.cache.lookup('Port', 'name', name);
  }

  /** Interfaces Tessera created for pods (they carry our ifname key and a sandbox). */
  podInterfaces(): Interface[] {
    return this.ovs.cache.filter('Interface', (i) => i.external_ids[IFNAME_KEY] !== undefined && i.external_ids[SANDBOX] !== undefined);
  }

  async addPodPort(p: PodPortSpec): Promise<void> {
    const br = this.bridge();
    if (!br) throw new Error(`bridge ${INTEGRATION_BRIDGE} does not exist (is ovn-controller running?)`);
    const o = this.ovs.op;
    const stale = this.port(p.name);
    this.wantedPorts.set(p.name, p);
    await this.ovs.transact([
      // An earlier, interrupted ADD of the same attachment may have left the port: replace it in the same transaction.
      ...(stale ? [o.mutate('Bridge', [['_uuid', '==', br._uuid]], [['ports', 'delete', [stale._uuid]]])] : []),
      o.insert(
        'Interface',
        {
          name: p.name,
          external_ids: OvsPorts.podIds(p),
        },
        'iface',
      ),
      o.insert('Port', { name: p.name, interfaces: [ref('iface')] }, 'port'),
      o.mutate('Bridge', [['_uuid', '==', br._uuid]], [['ports', 'insert', [ref('port')]]]),
    ]);
  }

  /** Resolves when ovn-controller has marked the interface ovn-installed (monitor-driven, no polling). */
  waitInstalled(name: string, timeoutMs: number): Promise<Interface> {
    return this.ovs.waitFor('Interface', (i) => i.name === name && i.external_ids[OVN_INSTALLED] === 'true', timeoutMs);
  }

  /**
   * Removes ports by name from every bridge that holds them; returns how many were removed. With `syncMs`, also
   * waits (bounded) until ovs-vswitchd has applied the removal (cur_cfg catches up with next_cfg, as ovs-vsctl
   * does): needed before a device of the same name is re-added, or vswitchd may keep the old device's socket.
   */
  async deletePorts(names: string[], syncMs = 0): Promise<number> {
    const o = this.ovs.op;
    const ops = [];
    for (const name of names) this.wantedPorts.delete(name); // before the delete's own monitor update arrives
    const root = this.ovs.cache.list('Open_vSwitch')[0];
    if (syncMs > 0 && root) ops.push(o.mutate('Open_vSwitch', [['_uuid', '==', root._uuid]], [['next_cfg', '+=', 1]]));
    let n = 0;
    for (const name of names) {
      const port = this.port(name);
      if (!port) continue;
      n++;
      for (const br of this.ovs.cache.filter('Bridge', (b) => b.ports.includes(port._uuid))) {
        ops.push(o.mutate('Bridge', [['_uuid', '==', br._uuid]], [['ports', 'delete', [port._uuid]]]));
      }
    }
    if (n === 0) return 0;
    await this.ovs.transact(ops);
    if (syncMs > 0 && root) {
      const want = (this.ovs.cache.list('Open_vSwitch')[0]?.next_cfg ?? 0);
      await this.ovs.waitFor('Open_vSwitch', (r) => r.cur_cfg >= want, syncMs);
    }
    return n;
  }

  /** Port names of interfaces belonging to an attachment (by interface name or by sandbox + ifname). */
  attachmentPorts(hostName: string, containerId: string, ifname: string): string[] {
    const names = new Set<string>();
    if (this.port(hostName)) names.add(hostName);
    for (const i of this.podInterfaces()) {
      if (i.external_ids[SANDBOX] === containerId && i.external_ids[IFNAME_KEY] === ifname) {
        const port = this.ovs.cache.find('Port', (p) => p.interfaces.includes(i._uuid));
        if (port) names.add(port.name);
      }
    }
    return [...names];
  }

  /** Creates (or leaves as is) an internal port on br-int. */
  async ensureInternalPort(name: string, ifaceId: string, mac: string, mtu: number): Promise<void> {
    const br = this.bridge();
    if (!br) throw new Error(`bridge ${INTEGRATION_BRIDGE} does not exist (is ovn-controller running?)`);
    const o = this.ovs.op;
    const have = this.iface(name);
    const port = this.port(name);
    if (have && port && br.ports.includes(port._uuid)) {
      if (have.type !== 'internal' || have.external_ids[IFACE_ID] !== ifaceId || have.mac !== mac || have.mtu_request !== mtu) {
        await this.ovs.transact([
          o.update('Interface', [['_uuid', '==', have._uuid]], { type: 'internal', mac, mtu_request: mtu, external_ids: { ...have.external_ids, [IFACE_ID]: ifaceId } }),
        ]);
      }
      return;
    }
    await this.ovs.transact([
      ...(port ? [o.mutate('Bridge', [['_uuid', '==', br._uuid]], [['ports', 'delete', [port._uuid]]])] : []),
      o.insert('Interface', { name, type: 'internal', mac, mtu_request: mtu, external_ids: { [IFACE_ID]: ifaceId } }, 'iface'),
      o.insert('Port', { name, interfaces: [ref('iface')] }, 'port'),
      o.mutate('Bridge', [['_uuid', '==', br._uuid]], [['ports', 'insert', [ref('port')]]]),
    ]);
  }
}
