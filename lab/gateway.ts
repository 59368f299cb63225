// The lab's gateways: an "external host" netns on the lab underlay, outside the cluster, and `tessera-gateway run`
// on every node (the shared gateway: every node is one) in shared-NIC mode on the lab's br-phy (which already
// carries the node IP, as nics-to-bridge would leave it). default/web becomes a NodePort. check() reports, in the
// lab's CheckResult shape: pod -> external host (SNAT to its node's IP, as the external host sees it), each node's
// own traffic to the external host, and external host -> NodePort on every gateway node -> web pods.
// startLab({ gateway: true }) (make lab) runs it; tests may call addLabGateway(lab) on a lab they started themselves.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { alive, spawnDaemon } from './daemon.js';
import { run } from './exec.js';
import type { LabFile, LabGatewayInfo } from './lab-file.js';
import { addNetns } from './netns.js';
import { PHYS_BRIDGE } from './ovs-node.js';
import { REPO_ROOT } from './paths.js';
import { tesseraTlsArgs } from './pki.js';
import type { CheckResult } from './report.js';
import { httpOk } from './tessera.js';
import { plugUnderlay, UNDERLAY_NIC } from './underlay.js';
import { GiveUp, sleep, waitFor } from './wait.js';
import { serviceAccountTokenFile, type UnixKubeClient } from './kube.js';

export const EXT_PORT = 9000;
export const DEFAULT_NODE_PORT = 30080;
/** /readyz of tessera-gateway run, on loopback inside the gateway node's netns. */
export const GATEWAY_HEALTH_PORT = 9478;

export interface GatewayOptions {
  /** Gateway nodes. Default: every node. */
  nodes?: string[];
  /** External host address on the underlay. Default: .254 of the underlay. */
  extIp?: string;
  /** default/web's NodePort. Default 30080. */
  nodePort?: number;
  /** Directory with tessera-gateway; without it the source runs through tsx. */
  binDir?: string;
}

/** What addLabGateway needs of a lab (a Lab handle satisfies it). */
export interface GatewayHost {
  file: LabFile;
  runDir: string;
  kube: UnixKubeClient | undefined;
}

export interface LabGateway extends LabGatewayInfo {
  /** One entry per gateway node (the first is also the LabGatewayInfo above). */
  gateways: LabGatewayInfo[];
  check(): Promise<CheckResult[]>;
}

async function tcpLine(netns: string, ip: string, port: number): Promise<string> {
  return run('nc', ['-N', '-w', '2', ip, String(port)], { netns, input: '', timeoutMs: 6000 });
}

export async function addLabGateway(lab: GatewayHost, o: GatewayOptions = {}): Promise<LabGateway> {
  const f = lab.file;
  const gwNodes = (o.nodes ?? f.nodes.map((n) => n.name)).map((name) => {
    const n = f.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`lab gateway: the lab has no node ${name}`);
    return n;
  });
  if (gwNodes.length === 0) throw new Error('lab gateway: no gateway nodes');
  if (!f.apiserver || !lab.kube) throw new Error('lab gateway: needs the API test server (components.apiserver)');
  const plen = f.underlay.cidr.split('/')[1] as string;
  const extIp = o.extIp ?? f.underlay.cidr.replace(/\.0\/\d+$/, '.254');
  const nodePort = o.nodePort ?? DEFAULT_NODE_PORT;
  const extNetns = `${f.prefix}ext`;
  const dir = join(lab.runDir, 'gateway');
  mkdirSync(dir, { recursive: true });

  // The external host: on the underlay, not a cluster member; its listener says which source address it saw.
  await addNetns(extNetns);
  await plugUnderlay(f.underlay.netns, extNetns, 'ext');
  await run('ip', ['-n', extNetns, 'addr', 'add', `${extIp}/${plen}`, 'dev', UNDERLAY_NIC]);
  spawnDaemon({ dir, name: 'external-host', netns: extNetns, cwd: REPO_ROOT, cmd: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, 'lab', 'external-host.ts'), '--name', 'external-host', '--port', String(EXT_PORT), '--lab-run', dir] });
  await waitFor('external host listener', async () => (await run('ss', ['-Htln', `sport = :${EXT_PORT}`], { netns: extNetns })) !== '', 15_000);

  // default/web becomes a NodePort service (its EndpointSlices stay as the lab wrote them).
  const path = '/api/v1/namespaces/default/services/web';
  const svc = await lab.kube.get<{ apiVersion: string; kind: string; metadata: { name: string }; spec: { type?: string; ports: Array<{ port: number; nodePort?: number }> } }>(path);
  svc.spec.type = 'NodePort';
  (svc.spec.ports[0] as { nodePort?: number }).nodePort = nodePort;
  await lab.kube.update(path, svc);
  const entry = f.services.find((s) => s.namespace === 'default' && s.name === 'web');
  if (entry) entry.type = 'NodePort';

  const bin = o.binDir ? join(o.binDir, 'tessera-gateway') : undefined;
  if (bin && !existsSync(bin)) throw new Error(`${bin} not found (make build)`);
  const [cmd, pre] = bin ? [bin, []] : [process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'gateway/main.ts')]];
  // One at a time: each picks its join IP from what NB shows, and concurrent picks only cost retries.
  for (const node of gwNodes) {
    const pid = spawnDaemon({ dir, name: `gateway-${node.name}`, netns: node.netns, cwd: REPO_ROOT, cmd, args: [...pre, 'run',
      '--node-name', node.name, '--bridge-interface', PHYS_BRIDGE, '--physical-ip', `${node.ip}/${plen}`, '--default-gw', extIp,
      '--nb', f.nb.remotes.join(','), '--ovs-db', `unix:${node.ovsDbSocket}`, '--ovs-rundir', node.ovsRunDir,
      '--state-dir', join(dir, `state-${node.name}`), '--kube-api', f.apiserver.url, '--kube-token-file', serviceAccountTokenFile(f.apiserver, 'tessera-gateway'),
      '--health-listen', `127.0.0.1:${GATEWAY_HEALTH_PORT}`, '--log-file', join(dir, `gateway-${node.name}.file.log`), ...tesseraTlsArgs(f.pki?.roles.node)] });
    await waitFor(`tessera-gateway on ${node.name} to be ready (log: ${join(dir, `gateway-${node.name}.log`)})`, async () => {
      if (!alive(pid)) throw new GiveUp(`tessera-gateway on ${node.name} exited; see ${join(dir, `gateway-${node.name}.log`)}`);
      return httpOk(node.netns, GATEWAY_HEALTH_PORT, '/readyz');
    }, 30_000, 200);
  }

  const gateways: LabGatewayInfo[] = gwNodes.map((n) => ({ node: n.name, nodeIp: n.ip, bridge: PHYS_BRIDGE, extNetns, extIp, extPort: EXT_PORT, nodePort }));
  f.gateway = gateways[0];
  f.gateways = gateways;
  return { ...(gateways[0] as LabGatewayInfo), gateways, check: () => gatewayChecks(f) };
}

/** The gateway's checks from lab.json alone (make lab-status uses them too). Retries briefly: flows settle after start. */
export async function gatewayChecks(f: LabFile): Promise<CheckResult[]> {
  const all = f.gateways ?? (f.gateway ? [f.gateway] : []);
  return (await Promise.all(all.map((g) => oneGatewayChecks(f, g)))).flat();
}

async function oneGatewayChecks(f: LabFile, g: LabGatewayInfo): Promise<CheckResult[]> {
  const node = f.nodes.find((n) => n.name === g.node);
  if (!node) return [];
  const out: CheckResult[] = [];
  const attempt = async (from: string, netns: string, to: string, ip: string, port: number, want: RegExp, what: string): Promise<void> => {
    let last = '';
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      last = await tcpLine(netns, ip, port).catch((e: Error) => `error: ${e.message.split('\n')[0]}`);
      ok = want.test(last);
      if (!ok) await sleep(500);
    }
    out.push({ kind: 'gateway', from, to, target: `${ip}:${port}`, ok, detail: `${what}: ${last.split('\n')[0]?.trim() ?? ''}` });
  };
  const seesNode = new RegExp(`^external-host sees ${g.nodeIp.replace(/\./g, '\\.')}$`);
  for (const p of f.pods.filter((x) => x.node === g.node)) {
    await attempt(`${p.namespace}/${p.name}`, p.netns, 'external-host', g.extIp, g.extPort, seesNode, `egress SNAT ${p.ip} -> ${g.nodeIp}`);
  }
  await attempt(`node ${node.name}`, node.netns, 'external-host', g.extIp, g.extPort, seesNode, 'node\'s own traffic');
  if (f.pods.some((p) => p.labels?.app === 'web' || p.name.startsWith('web-'))) {
    await attempt('external-host', g.extNetns, `default/web (NodePort on ${node.name})`, g.nodeIp, g.nodePort, /^hello from default\/web-/, 'NodePort');
  }
  return out;
}
