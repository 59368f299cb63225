// Where kubectl-tessera finds what it inspects: the Kubernetes API, OVN NB/SB and every node's OVS.
// - Lab (--lab FILE or $TESSERA_LAB, e.g. .lab/lab.json): API over the lab's unix socket, NB/SB over their unix
//   sockets, a node's tools run in its netns with its OVS_RUNDIR.
// - Cluster: kubeconfig conventions; NB/SB from --nb/--sb, else the ConfigMap kube-system/tessera-endpoints (keys
//   nb, sb; comma lists of ssl:/tcp: remotes) with the --ovsdb-* TLS files; a node's tools run with `kubectl exec`
//   in the tessera-agent pod on that node.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KubeClients } from '../lib/kube/client.js';
import type { TlsOptions } from '../lib/ovsdb/remote.js';
import { ConfigError } from '../lib/cli.js';
import { ovnTlsArgs } from '../lib/ovsdb-tls-flags.js';
import type { LabFile } from '../lab/lab-file.js';
import { execCmd, type ExecOptions, type ExecResult } from './exec.js';
import { kubectlConfig, labKubeClients } from './kube-access.js';

export const ENDPOINTS_CONFIGMAP = { namespace: 'kube-system', name: 'tessera-endpoints' };
export const AGENT_SELECTOR = 'app=tessera-agent';

export interface DbAccess {
  /** ovsdb remotes, e.g. ["unix:/run/ovn/ovnnb_db.sock"] or ["ssl:10.0.0.2:6641"]. */
  remotes: string[];
  tls?: TlsOptions;
}

export interface NodeAccess {
  name: string;
  /** Runs an OVS/OVN tool for this node: ovs-vsctl, ovs-appctl -t ovn-controller, ovs-ofctl. */
  run(cmd: string, args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Where this node's tools run, for messages. */
  where: string;
}

export interface Target {
  kube: KubeClients;
  nb: DbAccess;
  sb: DbAccess;
  node(name: string): Promise<NodeAccess>;
  /** GETs the watcher's /metrics text, when reachable (lab: loopback in the central netns; cluster: --watcher-metrics). */
  watcherMetrics?: () => Promise<string>;
  lab?: { path: string; file: LabFile };
  describe: string;
}

/** `ovn-nbctl`/`ovn-sbctl`/`ovn-trace` flags that reach `db`: --db plus the TLS files. */
export function ovnDbArgs(db: DbAccess): string[] {
  return [`--db=${db.remotes.join(',')}`, ...ovnTlsArgs(db.tls)];
}

export interface TargetFlags {
  lab?: string;
  kubeconfig?: string;
  context?: string;
  nb?: string;
  sb?: string;
  tls?: TlsOptions;
  watcherMetrics?: string;
  /** false: the command needs no NB/SB (connectivity), so neither --nb/--sb nor the ConfigMap is looked for. */
  ovn?: boolean;
}

export async function resolveTarget(f: TargetFlags, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const labPath = f.lab ?? env.TESSERA_LAB;
  if (labPath) return labTarget(labPath);
  return clusterTarget(f);
}

async function labTarget(path: string): Promise<Target> {
  const { readLabFile } = await import('../lab/lab-file.js');
  const file = readLabFile(path);
  if (!file.apiserver) throw new ConfigError(`${path}: this lab runs without the API server`);
  const kube = labKubeClients(file.apiserver.unixSocket, file.apiserver.tokenFile);
  return {
    kube, lab: { path, file }, describe: `lab ${path}`,
    nb: { remotes: [`unix:${file.nb.unixSocket}`] },
    sb: { remotes: [`unix:${file.sb.unixSocket}`] },
    node: async (name) => {
      const n = file.nodes.find((x) => x.name === name);
      if (!n) throw new ConfigError(`no node ${name} in ${path} (nodes: ${file.nodes.map((x) => x.name).join(', ')})`);
      const env = { OVS_RUNDIR: n.ovsRunDir, OVN_RUNDIR: n.ovsRunDir };
      return { name, where: `netns ${n.netns}`, run: (cmd, args, o = {}) => execCmd('ip', ['netns', 'exec', n.netns, cmd, ...args], { ...o, env: { ...env, ...o.env } }) };
    },
    watcherMetrics: async () => {
      const r = await execCmd('ip', ['netns', 'exec', file.central.netns, 'curl', '-sS', '-m', '5', 'http://127.0.0.1:9477/metrics']);
      if (r.code !== 0) throw new Error(`watcher /metrics: ${r.stderr.trim()}`);
      return r.stdout;
    },
  };
}

async function clusterTarget(f: TargetFlags): Promise<Target> {
  const kube = kubectlConfig({ kubeconfig: f.kubeconfig, context: f.context });
  let nb = f.nb ?? (f.ovn === false ? '' : undefined);
  let sb = f.sb ?? (f.ovn === false ? '' : undefined);
  if (nb === undefined || sb === undefined) {
    const cm = await kube.core.readNamespacedConfigMap(ENDPOINTS_CONFIGMAP).catch(() => undefined);
    nb ??= cm?.data?.nb;
    sb ??= cm?.data?.sb;
  }
  if (f.ovn !== false && (!nb || !sb)) throw new ConfigError(`OVN endpoints unknown: give --nb and --sb, or create ConfigMap ${ENDPOINTS_CONFIGMAP.namespace}/${ENDPOINTS_CONFIGMAP.name} with keys nb and sb`);
  const split = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
  if ([...split(nb ?? ''), ...split(sb ?? '')].some((r) => r.startsWith('ssl:')) && !f.tls) {
    throw new ConfigError('ssl: OVN remotes need --ovsdb-private-key, --ovsdb-certificate and --ovsdb-ca-cert');
  }
  const kubectlArgs = [...(f.kubeconfig ? ['--kubeconfig', f.kubeconfig] : []), ...(f.context ? ['--context', f.context] : [])];
  return {
    kube, describe: `cluster ${kube.kc.getCurrentCluster()?.server ?? ''}`,
    nb: { remotes: split(nb ?? ''), tls: f.tls },
    sb: { remotes: split(sb ?? ''), tls: f.tls },
    node: async (name) => {
      const pods = await kube.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: AGENT_SELECTOR, fieldSelector: `spec.nodeName=${name}` });
      const pod = pods.items.find((p) => p.status?.phase === 'Running');
      if (!pod?.metadata?.name) throw new ConfigError(`no running tessera-agent pod (${AGENT_SELECTOR}) on node ${name}`);
      const podName = pod.metadata.name;
      return { name, where: `kube-system/${podName}`, run: (cmd, args, o = {}) => execCmd('kubectl', [...kubectlArgs, '-n', 'kube-system', 'exec', podName, '--', cmd, ...args], o) };
    },
    ...(f.watcherMetrics ? { watcherMetrics: async () => {
      const res = await fetch(f.watcherMetrics as string);
      if (!res.ok) throw new Error(`${f.watcherMetrics}: HTTP ${res.status}`);
      return res.text();
    } } : {}),
  };
}

/** The built executables' directory (SEA: beside this executable; under tsx: <repo>/dist/bin). */
export function binDir(): string {
  const here = dirname(process.execPath);
  return existsSync(join(here, 'tessera-cni')) ? here : join(import.meta.dirname, '..', 'dist', 'bin');
}
