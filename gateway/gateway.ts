// init and the reconcile pass of run: node plumbing (bridge, bridge mappings, OpenFlow) plus the NB topology.
import { CLUSTER_ROUTER, gatewayRouter, macFromIPv4, nodeSwitch } from '../lib/ovn/names.js';
import { parseCIDR } from '../lib/ipnet/index.js';
import type { Logger } from '../lib/log.js';
import type { GatewayConfig } from './config.js';
import { DEFAULT_EGRESS, type EgressNatPolicy } from './egress-nat.js';
import { bridgeFlows, COOKIE } from './flows.js';
import { applyGateway, ensureClusterJoinLink, NotReadyError, type Nb } from './nb.js';
import { nicsToBridge, PlanStore } from './nics-to-bridge.js';
import { Ovs } from './ovs.js';
import type { ExternalEntry } from './services.js';
import type { EgressSubnet } from './subnets.js';
import { NodeStateStore, withMapping } from './state.js';
import { poll } from './sys.js';
import { getRpFilter, setRpFilter } from './sysctl.js';
import { gatewayTopology } from './topology.js';

const MAPPINGS_KEY = 'ovn-bridge-mappings';

export class Gateway {
  readonly ovs: Ovs;
  readonly states: NodeStateStore;
  private lastFlows = '';
  egress: EgressNatPolicy = DEFAULT_EGRESS;
  external: ExternalEntry = { nodePorts: [], vips: [] };
  /** The default Vpc's other Subnets (run fills it from NB and the Subnet objects). */
  subnets: EgressSubnet[] = [];

  constructor(readonly cfg: GatewayConfig, readonly nb: Nb, readonly log: Logger) {
    this.ovs = new Ovs(cfg.ovs);
    this.states = new NodeStateStore(cfg.stateDir);
  }

  /** Node side: bridge (dedicated NIC), bridge mapping; records what it changed before changing it. */
  async plumbNode(): Promise<void> {
    const c = this.cfg;
    const prev = this.states.load(c.node);
    const mappings = await this.ovs.getOvsExternalId(MAPPINGS_KEY);
    if (!prev) {
      this.states.save({
        node: c.node, mode: c.mode, bridge: c.bridge, physicalNetwork: c.physicalNetwork, mappingsBefore: mappings ?? null,
        ...(c.physicalInterface ? { physicalInterface: c.physicalInterface } : {}),
      });
    }
    if (c.mode === 'dedicated') {
      await nicsToBridge(c.physicalInterface!, this.ovs, new PlanStore(c.stateDir), this.log);
    } else {
      if (!(await this.ovs.bridgeExists(c.bridge))) {
        throw new Error(`--bridge-interface ${c.bridge}: no such OVS bridge (create it with: tessera-gateway nics-to-bridge <nic>)`);
      }
      // Also when the bridge was made by hand rather than by nics-to-bridge: the host stack must not see (and RST)
      // the GR's traffic arriving on the NIC (see nics-to-bridge's isolate-nic step).
      const nic = await this.nicOf();
      const rp = getRpFilter(nic);
      const st = this.states.load(c.node)!;
      if (rp !== undefined && !st.rpFilterBefore) this.states.save({ ...st, rpFilterBefore: { nic, value: rp } });
      if (rp !== undefined && rp !== '1') setRpFilter(nic, '1');
    }
    const want = withMapping(mappings, c.physicalNetwork, c.bridge);
    if (want !== mappings) await this.ovs.setOvsExternalId(MAPPINGS_KEY, want);
  }

  async chassis(): Promise<string> {
    if (this.cfg.chassis) return this.cfg.chassis;
    const id = await this.ovs.getOvsExternalId('system-id');
    if (!id) throw new Error(`no --chassis given and the node's OVS (${this.cfg.ovs.db}) has no external_ids:system-id`);
    return id;
  }

  nodeSubnet(): string {
    if (this.cfg.nodeSubnet) return this.cfg.nodeSubnet;
    const ls = this.nb.cache.lookup('Logical_Switch', 'name', nodeSwitch(this.cfg.node));
    const s = ls?.other_config.subnet;
    if (!s) throw new NotReadyError(`logical switch ${nodeSwitch(this.cfg.node)} has no other_config:subnet yet (give --node-subnet, or wait for the watcher)`);
    return s;
  }

  /** NB side: join link, join IP, GR, ext switch, routes, SNAT. Returns the ops sent (0 = already in shape). */
  async applyNb(): Promise<number> {
    const c = this.cfg;
    const clusterJoinIp = await ensureClusterJoinLink(this.nb, c.joinCidr);
    // Shared NIC: host and GR answer ARP for the same IP, so they must share the bridge's (the NIC's) MAC too.
    // Dedicated NIC: the GR gets its own MAC, so a learning bridge never confuses it with the bridge's tap.
    const gwMac = c.mode === 'shared'
      ? (await this.ovs.vsctl(['get', 'Interface', c.bridge, 'mac_in_use'])).trim().replace(/"/g, '')
      : macFromIPv4(c.physicalIp);
    const chassis = await this.chassis();
    const nodeSubnet = this.nodeSubnet();
    const { joinIp, ops } = await applyGateway(this.nb, c.node, c.joinCidr, (ip) => gatewayTopology({
      node: c.node, chassis, bridge: c.bridge, gwMac,
      physicalIp: c.physicalIp, physicalPrefix: c.physicalPrefix, defaultGw: c.defaultGw,
      clusterSubnet: c.clusterSubnet, nodeSubnet,
      joinIp: ip, joinPrefix: parseCIDR(c.joinCidr).prefix, clusterJoinIp,
      physicalNetwork: c.physicalNetwork, egress: this.egress, ...(c.nodeIp ? { nodeIp: c.nodeIp } : {}),
      subnets: this.subnets,
    }));
    if (ops > 0) this.log.info(`NB gateway topology updated (${ops} ops)`, { router: gatewayRouter(c.node), joinIp, via: CLUSTER_ROUTER });
    return ops;
  }

  /** OpenFlow on the external bridge; replaced only when the computed set changes. */
  async applyFlows(): Promise<boolean> {
    const c = this.cfg;
    const nicName = c.mode === 'dedicated' ? c.physicalInterface! : await this.nicOf();
    const nicOfport = await this.ovs.ofport(nicName);
    if (nicOfport === undefined) throw new Error(`${nicName} has no OpenFlow port on ${c.bridge} yet`);
    const patch = await this.ovs.patchPortOn(c.bridge);
    const patchOfport = patch ? await this.ovs.ofport(patch) : undefined;
    const flows = bridgeFlows({ mode: c.mode, nicOfport, hostIp: c.physicalIp, external: this.external,
      routedCidrs: this.subnets.filter((s) => !s.natOutgoing).map((s) => s.cidr), ...(patchOfport ? { patchOfport } : {}) });
    const text = flows.join('\n');
    if (text === this.lastFlows) return false;
    await this.ovs.replaceFlows(c.bridge, flows);
    this.lastFlows = text;
    this.log.info(`programmed ${flows.length} flows on ${c.bridge}`, { patchPort: patch ?? 'none yet' });
    return true;
  }

  /**
   * False when flows this process programmed are no longer all on the bridge: ovs-vswitchd keeps OpenFlow
   * tables in memory only, so a restarted (or crashed) vswitchd comes back with none of them. True while nothing
   * is programmed yet.
   */
  async flowsIntact(): Promise<boolean> {
    if (!this.lastFlows) return true;
    const want = this.lastFlows.split('\n').length;
    const dump = await this.ovs.dumpFlows(this.cfg.bridge, `cookie=${COOKIE}/-1`);
    const have = dump.split('\n').filter((l) => l.includes('cookie=')).length;
    return have >= want;
  }

  /** Forces the next applyFlows to reprogram (after a restart of vswitchd, or a periodic resync). */
  forgetFlows(): void {
    this.lastFlows = '';
  }

  /** The bridge's physical port: the one that is neither the patch port nor internal. */
  private async nicOf(): Promise<string> {
    for (const p of await this.ovs.portsOf(this.cfg.bridge)) {
      const type = (await this.ovs.vsctl(['--if-exists', 'get', 'Interface', p, 'type'])).trim().replace(/"/g, '');
      if (type === '' || type === 'system' || type === 'afxdp') return p;
    }
    throw new Error(`bridge ${this.cfg.bridge} has no physical port`);
  }

  /** Waits (bounded) for ovn-controller to plug the localnet patch port into the bridge. */
  async waitPatchPort(timeoutMs: number): Promise<boolean> {
    try {
      await poll(`patch port on ${this.cfg.bridge}`, timeoutMs, async () => (await this.ovs.patchPortOn(this.cfg.bridge)) !== undefined, 200);
      return true;
    } catch {
      return false;
    }
  }

  /** Everything init does, in order; idempotent. */
  async init(opts: { patchWaitMs: number }): Promise<void> {
    await this.plumbNode();
    await this.applyNb();
    if (this.cfg.mode === 'shared' && !(await this.waitPatchPort(opts.patchWaitMs))) {
      this.log.warn(`no patch port on ${this.cfg.bridge} after ${opts.patchWaitMs} ms (is ovn-controller running with the bridge mapping?); host-only flows for now, run will add the rest`);
    }
    await this.applyFlows();
  }
}
