// The gateway lab fixture: an underlay with an "external host" outside the cluster, OVN central (+ the Kubernetes
// API test double), and two gateway nodes, each with its own OVS (netdev) and ovn-controller:
//   gw1: shared NIC. eth1 carries the node IP and default route; nics-to-bridge moves them to breth1, which is
//        also the Geneve endpoint; GR_gw1 uses the node IP (option 2).
//   gw2: dedicated NIC. eth1 on br-phy carries node IP + Geneve; eth2 is the external NIC put into breth2 by
//        init, GR_gw2 has its own IP on it (option 1).
// The NB side the watcher would create (cluster router, join switch, node switches, pod ports) is scripted here.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnDaemon, stopDaemons } from '../../../lab/daemon.js';
import { run, succeeds } from '../../../lab/exec.js';
import { startApiServer, kubeClient, serviceAccountTokenFile, type ApiServerInfo } from '../../../lab/kube.js';
import type { UnixKubeClient } from '../../../kube-double/unix-client.js';
import { scriptClusterRouter, scriptNodeSwitch, scriptPodPort } from '../../fixtures/nb-script.js';
import { addNetns, addVeth, delNetns, txOff } from '../../../lab/netns.js';
import { startCentral, nbctl, chassisNames, type Central } from '../../../lab/ovn-central.js';
import { startOvsNode, startOvnController, ovnInstalled, type OvsNode } from '../../../lab/ovs-node.js';
import { createUnderlay, plugUnderlay, UNDERLAY_BRIDGE } from '../../../lab/underlay.js';
import { waitFor } from '../../../lab/wait.js';
import { JOIN_SWITCH, OWNER_KEY, INTEGRATION_BRIDGE, macFromIPv4 } from '../../../lib/ovn/names.js';
import { gateway, REPO, startNodeOvs, type GatewayRun } from './fixture.js';

export const P = 'tgw-';
export const NS = { ul: `${P}ul`, ext: `${P}ext`, central: `${P}central`, gw1: `${P}gw1`, gw2: `${P}gw2`, podA: `${P}pod-a`, podB: `${P}pod-b` };
export const IP = {
  ext: '192.168.60.1', central: '192.168.60.10', gw1: '192.168.60.11', gw2: '192.168.60.12', gw2Phys: '192.168.60.22',
  lbIngress: '192.168.61.100', externalIp: '192.168.61.101', podA: '10.244.1.5', podB: '10.244.2.5',
};

export interface GwNode {
  name: string;
  netns: string;
  dir: string;
  db: string;
  args: string[];
}

export interface GatewayLab {
  dir: string;
  central: Central;
  api: ApiServerInfo;
  kube: UnixKubeClient;
  gw1: GwNode;
  gw2: GwNode;
}

export async function destroyLab(dir: string | undefined): Promise<void> {
  if (dir) {
    await stopDaemons(dir, ['gateway-gw1', 'gateway-gw2', 'pod-a', 'pod-b', 'ext-listener', 'gw1-listener', 'ovn-controller', 'apiserver']).catch(() => undefined);
    for (const d of ['gw1', 'gw2', 'central']) await stopDaemons(join(dir, d), ['ovn-controller', 'ovn-northd']).catch(() => undefined);
  }
  for (const ns of Object.values(NS)) await delNetns(ns).catch(() => undefined);
}

const tsxArgs = (script: string, args: string[]): string[] => ['--import', 'tsx', join(REPO, script), ...args];

/** Starts a long-running node program in `netns` (tsx), output in <dir>/<name>.log. */
export function startProgram(dir: string, name: string, netns: string, script: string, args: string[]): number {
  return spawnDaemon({ dir, name, netns, cmd: process.execPath, args: tsxArgs(script, args), cwd: REPO });
}

export async function waitLogLine(dir: string, name: string, re: RegExp, timeoutMs = 20_000): Promise<void> {
  await waitFor(`${name} log to match ${re}`, () => {
    try {
      return re.test(readFileSync(join(dir, `${name}.log`), 'utf8'));
    } catch {
      return false;
    }
  }, timeoutMs);
}

/** One TCP exchange from `netns`; resolves with what the far side said, or throws. */
export async function tcpAsk(netns: string, ip: string, port: number, timeoutS = 5): Promise<string> {
  return run('ip', ['netns', 'exec', netns, 'timeout', String(timeoutS + 1), 'nc', '-w', String(timeoutS), ip, String(port)], { input: '', timeoutMs: (timeoutS + 3) * 1000 });
}

/** Where the last lab's directory is noted, so a run after a crash stops that lab's daemons before starting. */
const LAST_DIR_NOTE = join(tmpdir(), 'tgw-e2e-last-dir');

export async function createLab(dir: string): Promise<GatewayLab> {
  const previous = existsSync(LAST_DIR_NOTE) ? readFileSync(LAST_DIR_NOTE, 'utf8').trim() : undefined;
  await destroyLab(previous && existsSync(previous) ? previous : undefined);
  mkdirSync(dir, { recursive: true });
  writeFileSync(LAST_DIR_NOTE, `${dir}\n`);

  // Underlay, external host, central.
  await createUnderlay(NS.ul);
  await addNetns(NS.ext);
  await plugUnderlay(NS.ul, NS.ext, 'ext');
  await run('ip', ['-n', NS.ext, 'addr', 'add', `${IP.ext}/24`, 'dev', 'eth1']);
  // The external network routes the LoadBalancer and external IPs to the gateways (as BGP or a static route would).
  await run('ip', ['-n', NS.ext, 'route', 'add', `${IP.lbIngress}/32`, 'via', IP.gw1]);
  await run('ip', ['-n', NS.ext, 'route', 'add', `${IP.externalIp}/32`, 'via', IP.gw2Phys]);
  await addNetns(NS.central);
  await plugUnderlay(NS.ul, NS.central, 'central');
  await run('ip', ['-n', NS.central, 'addr', 'add', `${IP.central}/24`, 'dev', 'eth1']);
  const central = await startCentral({ dir: join(dir, 'central'), netns: NS.central, ip: IP.central });
  const api = await startApiServer({ repoRoot: REPO, dir, netns: NS.central, ip: IP.central, unixSocket: join(dir, 'api.sock') });
  const kube = kubeClient(api);

  // gw1: shared NIC. Node IP and default route on eth1 first, as the host would boot; then nics-to-bridge.
  await addNetns(NS.gw1);
  await plugUnderlay(NS.ul, NS.gw1, 'gw1');
  await run('ip', ['-n', NS.gw1, 'addr', 'add', `${IP.gw1}/24`, 'dev', 'eth1']);
  await run('ip', ['-n', NS.gw1, 'route', 'add', 'default', 'via', IP.ext, 'dev', 'eth1']);
  const o1 = await startNodeOvs(NS.gw1, join(dir, 'gw1'));
  const gw1: GwNode = { name: 'gw1', netns: NS.gw1, dir: o1.dir, db: o1.db, args: ['--ovs-db', o1.db, '--ovs-rundir', o1.dir, '--state-dir', join(dir, 'gw1', 'state')] };

  // gw2: lab-style node (br-phy owns eth1 with the node IP) plus a second NIC eth2 for external traffic.
  await addNetns(NS.gw2);
  await plugUnderlay(NS.ul, NS.gw2, 'gw2');
  const n2: OvsNode = await startOvsNode({ name: 'gw2', netns: NS.gw2, dir: join(dir, 'gw2'), cidr: `${IP.gw2}/24`, sbRemote: central.sbRemote });
  await addVeth({ netns: NS.ul, name: 'ul-gw2x' }, { netns: NS.gw2, name: 'eth2' });
  await run('ip', ['-n', NS.ul, 'link', 'set', 'ul-gw2x', 'master', UNDERLAY_BRIDGE]);
  await txOff(NS.ul, 'ul-gw2x');
  await txOff(NS.gw2, 'eth2');
  const gw2: GwNode = { name: 'gw2', netns: NS.gw2, dir: n2.dir, db: `unix:${n2.dbSocket}`, args: ['--ovs-db', `unix:${n2.dbSocket}`, '--ovs-rundir', n2.dir, '--state-dir', join(dir, 'gw2', 'state')] };

  // NB as the watcher's master-init and node controller would leave it.
  await scriptClusterRouter(central);
  await nbctl(central, ['--may-exist', 'ls-add', JOIN_SWITCH, '--', 'set', 'Logical_Switch', JOIN_SWITCH, `external_ids:"${OWNER_KEY}"=tessera-lab`]);
  // The cluster router's join link, as the watcher's master-init makes it (the gateway finds it by address).
  await nbctl(central, ['--may-exist', 'lrp-add', 'ovn_cluster_router', 'rtoj-ovn_cluster_router', macFromIPv4('100.64.0.1'), '100.64.0.1/16',
    '--', '--may-exist', 'lsp-add', JOIN_SWITCH, 'jtor-ovn_cluster_router', '--', 'lsp-set-type', 'jtor-ovn_cluster_router', 'router',
    '--', 'lsp-set-addresses', 'jtor-ovn_cluster_router', 'router', '--', 'lsp-set-options', 'jtor-ovn_cluster_router', 'router-port=rtoj-ovn_cluster_router']);
  await scriptNodeSwitch(central, 'gw1', '10.244.1.0/24', '10.244.1.1');
  await scriptNodeSwitch(central, 'gw2', '10.244.2.0/24', '10.244.2.1');
  return { dir, central, api, kube, gw1, gw2 };
}

/** Connects gw1 to OVN (after nics-to-bridge moved its IP to breth1, which becomes the Geneve endpoint). */
export async function startGw1Controller(lab: GatewayLab): Promise<void> {
  await startOvnController({ name: 'gw1', netns: NS.gw1, dir: lab.gw1.dir, dbSocket: lab.gw1.db.replace(/^unix:/, ''), encapIp: IP.gw1, sbRemote: lab.central.sbRemote });
  await waitFor('chassis gw1 and gw2 in SB', async () => {
    const names = await chassisNames(lab.central);
    return names.includes('gw1') && names.includes('gw2');
  }, 30_000);
}

/** A pod: LSP on its node's switch, a netns wired into that node's br-int, running the peer server on 8080. */
async function startPod(lab: GatewayLab, o: { name: string; node: GwNode; netns: string; ip: string; gw: string }): Promise<void> {
  const mac = macFromIPv4(o.ip);
  const host = `veth${o.name.replace(/-/g, '')}`;
  await scriptPodPort(lab.central, { node: o.node.name, namespace: 'default', pod: o.name, ip: o.ip, mac });
  await addNetns(o.netns);
  await addVeth({ netns: o.node.netns, name: host }, { netns: o.netns, name: 'eth0' }, 1400);
  await run('ip', ['-n', o.netns, 'link', 'set', 'eth0', 'address', mac]);
  await run('ip', ['-n', o.netns, 'addr', 'add', `${o.ip}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', o.netns, 'route', 'add', 'default', 'via', o.gw]);
  await txOff(o.netns, 'eth0');
  await txOff(o.node.netns, host);
  await run('ovs-vsctl', [`--db=${o.node.db}`, '--may-exist', 'add-port', INTEGRATION_BRIDGE, host, '--', 'set', 'Interface', host,
    `external_ids:iface-id=default_${o.name}`, `external_ids:attached_mac=${mac}`, `external_ids:ip_addresses=${o.ip}/24`]);
  await waitFor(`${o.name} ovn-installed`, () => ovnInstalled({ dbSocket: o.node.db.slice('unix:'.length) }, host), 30_000);
  startProgram(lab.dir, o.name, o.netns, 'lab/external-host.ts', ['--name', o.name, '--port', '8080']);
  await waitLogLine(lab.dir, o.name, /listening 8080/);
}

/** pod-a on gw1 (10.244.1.5) and pod-b on gw2 (10.244.2.5). */
export async function startPods(lab: GatewayLab): Promise<void> {
  await startPod(lab, { name: 'pod-a', node: lab.gw1, netns: NS.podA, ip: IP.podA, gw: '10.244.1.1' });
  await startPod(lab, { name: 'pod-b', node: lab.gw2, netns: NS.podB, ip: IP.podB, gw: '10.244.2.1' });
}

export function gatewayCli(n: GwNode, args: string[], env: Record<string, string> = {}): Promise<GatewayRun> {
  return gateway(n.netns, [...args, ...n.args], env, 90_000);
}

export function startGatewayRun(lab: GatewayLab, n: GwNode, initArgs: string[], resyncSeconds = 30): number {
  return startProgram(lab.dir, `gateway-${n.name}`, n.netns, 'gateway/main.ts', [
    'run', ...initArgs, ...n.args, '--nb', lab.central.nbRemote, '--kube-api', lab.api.url, '--kube-token-file', serviceAccountTokenFile(lab.api, 'tessera-gateway'), '--resync-seconds', String(resyncSeconds),
  ]);
}

const NB_TABLES = ['Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port', 'Logical_Router_Static_Route', 'NAT', 'Load_Balancer'];

/** Every row of the tables the gateway writes, one sorted line each (uuids included: untouched rows keep theirs). */
export async function nbSnapshot(c: Central): Promise<string[]> {
  const out: string[] = [];
  for (const t of NB_TABLES) {
    const rows = await nbctl(c, ['--format=csv', '--data=bare', '--no-headings', 'list', t]);
    for (const l of rows.split('\n')) if (l !== '') out.push(`${t}: ${l}`);
  }
  return out.sort();
}

/** Bridges, their ports, and the Open_vSwitch external_ids keys the gateway touches. */
export async function ovsSnapshot(n: GwNode): Promise<{ bridges: Record<string, string[]>; mappings: string }> {
  const vs = (a: string[]): Promise<string> => run('ovs-vsctl', [`--db=${n.db}`, ...a]);
  const bridges: Record<string, string[]> = {};
  for (const br of (await vs(['list-br'])).split('\n').filter((b) => b !== '')) {
    bridges[br] = (await vs(['list-ports', br])).split('\n').filter((p) => p !== '' && !p.startsWith('patch-'));
  }
  const mappings = await vs(['--if-exists', 'get', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings']);
  return { bridges, mappings };
}

export { succeeds, run };
