// Kuryr's layouts on a real Neutron (issue 16): the pieces that put the watcher in Neutron pod-port mode and a nested
// tessera-agent inside a VM whose port is a trunk parent. The watcher reads Neutron's endpoint from a Secret
// (noauth) and runs in the netns where neutron-server listens; the VM reaches the Kubernetes API through a socat
// forwarder on its own loopback to the API's unix socket, so the nested agent runs inside the VM as it would in Nova.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDaemon, alive } from '../daemon.js';
import { run } from '../exec.js';
import { serviceAccountTokenFile, type ApiServerInfo, type UnixKubeClient } from '../kube.js';
import { GiveUp, waitFor } from '../wait.js';
import type { Neutron } from './neutron.js';

export const KURYR_SECRET = { namespace: 'kube-system', name: 'tessera-neutron' } as const;
const VM_API_PORT = 6443;

/** The Secret the watcher reads Neutron's endpoint and project from (noauth, as the lab's neutron-server runs). */
export async function createNeutronSecret(kube: UnixKubeClient, neutron: Pick<Neutron, 'url'>, projectId: string): Promise<void> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: KURYR_SECRET.namespace } }).catch(() => undefined);
  await kube.create(`/api/v1/namespaces/${KURYR_SECRET.namespace}/secrets`, {
    apiVersion: 'v1', kind: 'Secret', metadata: KURYR_SECRET,
    data: { OS_AUTH_TYPE: b64('noauth'), OS_ENDPOINT: b64(neutron.url), OS_PROJECT_ID: b64(projectId) },
  });
}

export interface NeutronWatcherOptions {
  dir: string;
  /** The netns where the Kubernetes API and neutron-server listen. */
  netns: string;
  binDir: string;
  api: ApiServerInfo;
  /** The watcher's own NB (nodes, services, policies); pods go to Neutron. */
  nb: string;
  network: string;
  subnet: string;
  clusterName: string;
}

/** tessera-watcher in Neutron pod-port mode; returns its pid. */
export function startNeutronWatcher(o: NeutronWatcherOptions): number {
  mkdirSync(o.dir, { recursive: true });
  return spawnDaemon({ dir: o.dir, name: 'tessera-watcher', netns: o.netns, cmd: join(o.binDir, 'tessera-watcher'), args: [
    '--kube-api', o.api.url, '--kube-token-file', serviceAccountTokenFile(o.api, 'tessera-watcher'), '--nb', o.nb, '--no-leader-election',
    '--neutron-secret', `${KURYR_SECRET.namespace}/${KURYR_SECRET.name}`, '--neutron-network', o.network, '--neutron-subnet', o.subnet,
    '--neutron-cluster-name', o.clusterName,
  ] });
}

export interface NestedVmAgentOptions {
  dir: string;
  /** The VM's netns (lab/openstack/vm.ts plugVm): its eth0 is the trunk parent's port. */
  vmNetns: string;
  node: string;
  binDir: string;
  api: ApiServerInfo;
  healthPort: number;
}

/** The nested agent inside the VM (--nested-parent-iface eth0); resolves with its CNI socket once it is ready. */
export async function startNestedVmAgent(o: NestedVmAgentOptions): Promise<{ cniSocket: string; pid: number }> {
  mkdirSync(o.dir, { recursive: true });
  await run('ip', ['-n', o.vmNetns, 'link', 'set', 'lo', 'up']);
  spawnDaemon({ dir: o.dir, name: 'api-forward', netns: o.vmNetns, cmd: 'socat',
    args: [`TCP-LISTEN:${VM_API_PORT},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${o.api.unixSocket}`] });
  const cniSocket = join(o.dir, 'cni.sock');
  const pid = spawnDaemon({ dir: o.dir, name: 'tessera-agent', netns: o.vmNetns, cmd: join(o.binDir, 'tessera-agent'), args: [
    '--node-name', o.node, '--kube-api', `http://127.0.0.1:${VM_API_PORT}`, '--kube-token-file', serviceAccountTokenFile(o.api, 'tessera-agent'),
    '--cni-socket', cniSocket, '--health-listen', `127.0.0.1:${o.healthPort}`, '--log-file', join(o.dir, 'tessera-agent.file.log'),
    '--nested-parent-iface', 'eth0',
  ] });
  await waitFor(`nested tessera-agent in ${o.vmNetns} ready (log: ${join(o.dir, 'tessera-agent.log')})`, async () => {
    if (!alive(pid)) throw new GiveUp(`nested tessera-agent in ${o.vmNetns} exited; see ${join(o.dir, 'tessera-agent.log')}`);
    const out = await run('ip', ['netns', 'exec', o.vmNetns, process.execPath, '-e',
      `fetch('http://127.0.0.1:${o.healthPort}/readyz').then(r=>console.log(r.status),()=>console.log(0))`]);
    return out.trim() === '200';
  }, 60_000, 500);
  return { cniSocket, pid };
}
