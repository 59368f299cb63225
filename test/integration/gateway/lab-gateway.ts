// Adds a gateway to a running lab (lab/cluster.ts): an "external host" netns on the lab underlay, outside the
// cluster, and `tessera-gateway run` on one node in shared-NIC mode on the lab's br-phy (which already carries
// the node IP, as nics-to-bridge would leave it). The lab's default/web service becomes a NodePort. check()
// reports, in the lab's CheckResult shape: pod -> external host (SNAT to the node IP, as the external host sees
// it), external host -> NodePort -> pods, and the node's own connection to the external host.
// For `make lab`: `const gw = await addLabGateway(lab); lab checks + await gw.check()`.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDaemon } from '../../../lab/daemon.js';
import { run } from '../../../lab/exec.js';
import { addNetns } from '../../../lab/netns.js';
import type { Lab } from '../../../lab/cluster.js';
import type { CheckResult } from '../../../lab/report.js';
import { plugUnderlay, UNDERLAY_NIC } from '../../../lab/underlay.js';
import { PHYS_BRIDGE } from '../../../lab/ovs-node.js';
import { waitFor } from '../../../lab/wait.js';
import { REPO } from './fixture.js';
import { CLUSTER_ROUTER, JOIN_SWITCH, macFromIPv4 } from '../../../lib/names.js';
import { clusterJoinPort, joinClusterPort } from '../../../gateway/names.js';

export interface LabGateway {
  node: string;
  nodeIp: string;
  extNetns: string;
  extIp: string;
  nodePort: number;
  check(): Promise<CheckResult[]>;
}

const EXT_PORT = 9000;

async function tcp(netns: string, ip: string, port: number): Promise<string> {
  return run('ip', ['netns', 'exec', netns, 'timeout', '3', 'nc', '-N', '-w', '2', ip, String(port)], { input: '', timeoutMs: 8000 });
}

export async function addLabGateway(lab: Lab, o: { node?: string; extIp?: string; nodePort?: number; binDir?: string } = {}): Promise<LabGateway> {
  const f = lab.file;
  const node = f.nodes.find((n) => n.name === (o.node ?? f.nodes[0]!.name));
  if (!node) throw new Error(`lab has no node ${o.node}`);
  if (!f.apiserver) throw new Error('the lab gateway needs the API test server (components.apiserver)');
  const plen = f.underlay.cidr.split('/')[1]!;
  const extIp = o.extIp ?? f.underlay.cidr.replace(/\.0\/\d+$/, '.254');
  const nodePort = o.nodePort ?? 30080;
  const extNetns = `${f.prefix}ext`;
  const dir = join(lab.runDir, 'gateway');
  mkdirSync(dir, { recursive: true });

  // The external host: on the underlay, not a cluster member; it runs a listener that reports who connected.
  await addNetns(extNetns);
  await plugUnderlay(f.underlay.netns, extNetns, 'ext');
  await run('ip', ['-n', extNetns, 'addr', 'add', `${extIp}/${plen}`, 'dev', UNDERLAY_NIC]);
  spawnDaemon({ dir, name: 'ext-listener', netns: extNetns, cwd: REPO, cmd: process.execPath,
    args: ['--import', 'tsx', join(REPO, 'test/integration/gateway/peer-server.ts'), '--name', 'external-host', '--port', String(EXT_PORT), '--run-dir', dir] });
  await waitFor('external host listener', async () => (await run('ss', ['-Htln', `sport = :${EXT_PORT}`], { netns: extNetns })) !== '', 15_000);

  // In script mode nothing plays the watcher's master-init: script its join switch and join link (same names).
  if (!f.components.watcher) {
    await lab.nbctl(['--may-exist', 'ls-add', JOIN_SWITCH,
      '--', '--may-exist', 'lrp-add', CLUSTER_ROUTER, clusterJoinPort, macFromIPv4('100.64.0.1'), '100.64.0.1/16',
      '--', '--may-exist', 'lsp-add', JOIN_SWITCH, joinClusterPort, '--', 'lsp-set-type', joinClusterPort, 'router',
      '--', 'lsp-set-addresses', joinClusterPort, 'router', '--', 'lsp-set-options', joinClusterPort, `router-port=${clusterJoinPort}`]);
  }

  // default/web becomes a NodePort service (its EndpointSlices stay as the lab wrote them).
  const kube = lab.kube!;
  const path = '/api/v1/namespaces/default/services/web';
  const svc = await kube.get<{ apiVersion: string; kind: string; metadata: { name: string }; spec: { type?: string; ports: Array<{ port: number; nodePort?: number }> } }>(path);
  svc.spec.type = 'NodePort';
  svc.spec.ports[0]!.nodePort = nodePort;
  await kube.update(path, svc);

  // The built executable when a binDir is given (make lab builds first), else the source through tsx.
  const bin = o.binDir ? join(o.binDir, 'tessera-gateway') : undefined;
  if (bin && !existsSync(bin)) throw new Error(`${bin} not found (make build)`);
  const [cmd, pre] = bin ? [bin, []] : [process.execPath, ['--import', 'tsx', join(REPO, 'gateway/main.ts')]];
  spawnDaemon({ dir, name: `gateway-${node.name}`, netns: node.netns, cwd: REPO, cmd, args: [...pre, 'run',
    '--node-name', node.name, '--bridge-interface', PHYS_BRIDGE, '--physical-ip', `${node.ip}/${plen}`, '--default-gw', extIp,
    '--nb', f.nb.remotes.join(','), '--ovs-db', `unix:${node.ovsDbSocket}`, '--ovs-rundir', node.ovsRunDir,
    '--state-dir', join(dir, `state-${node.name}`), '--kube-api', f.apiserver.url, '--kube-token', f.apiserver.token,
    '--log-file', join(dir, `gateway-${node.name}.file.log`)] });

  const gwPods = f.pods.filter((p) => p.node === node.name);
  const webPods = f.pods.filter((p) => p.name.startsWith('web-'));
  const gw: LabGateway = {
    node: node.name, nodeIp: node.ip, extNetns, extIp, nodePort,
    async check() {
      const out: CheckResult[] = [];
      const attempt = async (from: string, netns: string, to: string, ip: string, port: number, want: RegExp): Promise<void> => {
        let last = '';
        let ok = false;
        for (let i = 0; i < 20 && !ok; i++) {
          last = await tcp(netns, ip, port).catch((e: Error) => `error: ${e.message.split('\n')[0]}`);
          ok = want.test(last);
          if (!ok) await new Promise((r) => setTimeout(r, 500));
        }
        out.push({ kind: 'tcp', from, to, target: `${ip}:${port}`, ok, detail: last.split('\n')[0]!.trim() });
      };
      for (const p of gwPods) {
        await attempt(`${p.namespace}/${p.name}`, p.netns, 'external-host', extIp, EXT_PORT, new RegExp(`^external-host sees ${node.ip.replace(/\./g, '\\.')}$`));
      }
      await attempt(`node ${node.name}`, node.netns, 'external-host', extIp, EXT_PORT, new RegExp(`^external-host sees ${node.ip.replace(/\./g, '\\.')}$`));
      if (webPods.length > 0) await attempt('external-host', extNetns, `default/web (NodePort on ${node.name})`, node.ip, nodePort, /^hello from default\/web-/);
      return out;
    },
  };
  return gw;
}
