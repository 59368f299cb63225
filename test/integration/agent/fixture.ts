// Single-node fixture for tessera-agent integration tests, built from the lab modules: an underlay netns, one node
// netns running NB/SB/northd (unix + tcp on the node's 127.0.0.1), ovsdb-server + ovs-vswitchd (netdev) +
// ovn-controller, the Kubernetes API test server, and the agent under test (dist/bin/tessera-agent).
// What the watcher would do (cluster router, node subnet and switch, the management port's LSP from the MAC the
// agent announces, pod LSPs and annotations) is scripted here; the agent itself never talks to NB.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, daemonEnv, daemonFlags, readPid, spawnDaemon, stopDaemons } from '../../../lab/daemon.js';
import { run, succeeds } from '../../../lab/exec.js';
import { kubeClient, nodePath, podPath, serviceAccountTokenFile, startApiServer, type ApiServerInfo, type KubeObject, type UnixKubeClient } from '../../../lab/kube.js';
import { addNetns, delNetns, listNetns } from '../../../lab/netns.js';
import { scriptClusterRouter, scriptManagementPort, scriptNodeSwitch, scriptPodPort } from '../../fixtures/nb-script.js';
import { chassisNames, startCentral, type Central } from '../../../lab/ovn-central.js';
import { startOvnController, startOvsNode, vsctl, type OvsNode } from '../../../lab/ovs-node.js';
import { REPO_ROOT } from '../../../lab/paths.js';
import { createUnderlay, plugUnderlay } from '../../../lab/underlay.js';
import { waitFor } from '../../../lab/wait.js';
import { hostVethName, type AgentRequest, type AgentResponse } from '../../../lib/cni-protocol.js';
import { macFromIPv4 } from '../../../lib/ovn/names.js';
import { NODE_SUBNET_ANNOTATION, POD_NETWORKS_ANNOTATION, type PodNetworks } from '../../../lib/kube/annotations.js';

export const AGENT_BIN = join(REPO_ROOT, 'dist', 'bin', 'tessera-agent');
export const NODE = 'n1';
export const SUBNET = '10.244.1.0/24';
export const GATEWAY = '10.244.1.1';

export interface TestPod {
  namespace: string;
  name: string;
  uid: string;
  ip: string;
  mac: string;
  netns: string;
  netnsPath: string;
  containerId: string;
  hostVeth: string;
}

export class AgentFixture {
  readonly id = randomBytes(2).toString('hex');
  readonly dir = mkdtempSync(join(tmpdir(), 'tag-agent-'));
  readonly nodeNs = `tag-${this.id}-n1`;
  readonly ulNs = `tag-${this.id}-ul`;
  readonly agentDir = join(this.dir, 'agent');
  readonly cniSocket = join(this.agentDir, 'cni.sock');
  readonly healthPort = 19000 + Math.floor(Math.random() * 1000);
  central!: Central;
  ovs!: OvsNode;
  api!: ApiServerInfo;
  kube!: UnixKubeClient;
  private podSeq = 0;

  async start(): Promise<void> {
    mkdirSync(this.agentDir, { recursive: true });
    await createUnderlay(this.ulNs);
    await addNetns(this.nodeNs);
    await run('ip', ['-n', this.nodeNs, 'link', 'set', 'lo', 'up']);
    await plugUnderlay(this.ulNs, this.nodeNs, 'n1');
    this.central = await startCentral({ dir: join(this.dir, 'central'), netns: this.nodeNs, ip: '127.0.0.1' });
    this.ovs = await startOvsNode({ name: NODE, netns: this.nodeNs, dir: join(this.dir, 'node'), cidr: '172.30.0.11/24', sbRemote: `unix:${this.central.sbSocket}` });
    mkdirSync(join(this.dir, 'api'), { recursive: true });
    this.api = await startApiServer({ repoRoot: REPO_ROOT, dir: join(this.dir, 'api'), netns: this.nodeNs, ip: '127.0.0.1', unixSocket: join(this.dir, 'api.sock') });
    this.kube = kubeClient(this.api);
    await this.kube.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } });
    await this.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }).catch(() => undefined);
    await scriptClusterRouter(this.central);
    await waitFor('chassis registered', async () => (await chassisNames(this.central)).includes(NODE), 30_000);
    await waitFor('br-int created', () => succeeds('ovs-vsctl', [`--db=unix:${this.ovs.dbSocket}`, 'br-exists', 'br-int']), 30_000);
  }

  // ---------------------------------------------------------------- agent

  agentArgs(): string[] {
    return [
      '--node-name', NODE,
      '--kube-api', this.api.url,
      '--kube-token-file', serviceAccountTokenFile(this.api, 'tessera-agent'),
      '--ovs-db', `unix:${this.ovs.dbSocket}`,
      '--cni-socket', this.cniSocket,
      '--health-listen', `127.0.0.1:${this.healthPort}`,
      '--reconcile-interval', '2',
      '--log-file', join(this.agentDir, 'agent-winston.log'),
      '--ovn-rundir', this.ovs.dir,
      '--patch-flow-check', '5',
    ];
  }

  startAgent(): number {
    if (!existsSync(AGENT_BIN)) throw new Error(`${AGENT_BIN} missing: run node_modules/.bin/tsx tools/build.ts tessera-agent`);
    return spawnDaemon({ dir: this.agentDir, name: 'tessera-agent', netns: this.nodeNs, cmd: AGENT_BIN, args: this.agentArgs() });
  }

  /** Starts the agent, does the watcher's node sync and waits until the agent reports ready. */
  async startReadyAgent(): Promise<void> {
    this.startAgent();
    await this.annotateNode();
    await waitFor('readyz', async () => (await this.health('/readyz')) === 200, 60_000);
  }

  agentPid(): number | undefined {
    const pid = readPid(join(this.agentDir, 'tessera-agent.pid'));
    return pid !== undefined && alive(pid) ? pid : undefined;
  }

  async stopAgent(): Promise<void> {
    await stopDaemons(this.agentDir);
  }

  agentLog(): string {
    try {
      return readFileSync(join(this.agentDir, 'tessera-agent.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** GET on the health listener, from inside the node netns (curl-free: a tiny node one-liner would cost more). */
  async health(path: string): Promise<number> {
    return (await this.healthAnswer(path)).status;
  }

  /** Status and body of a GET on the health listener (status 0: no answer). */
  async healthAnswer(path: string): Promise<{ status: number; body: string }> {
    const out = await run('ip', ['netns', 'exec', this.nodeNs, process.execPath, '-e',
      `fetch('http://127.0.0.1:${this.healthPort}${path}').then(async r=>console.log(JSON.stringify({status:r.status,body:await r.text()})),()=>console.log('{"status":0,"body":""}'))`]);
    return JSON.parse(out) as { status: number; body: string };
  }

  /** kill -9 of the node's ovn-controller (started by this fixture), as a crash would; waits until it is gone. */
  async killOvnController(): Promise<void> {
    const pid = readPid(join(this.ovs.dir, 'ovn-controller.pid'));
    if (pid === undefined) throw new Error('ovn-controller pidfile missing');
    process.kill(pid, 'SIGKILL');
    await waitFor('ovn-controller to exit', () => !alive(pid), 10_000);
  }

  /** Stops ovn-northd and the NB ovsdb-server (both started by this fixture); SB keeps what northd last wrote. */
  async stopNorthbound(): Promise<void> {
    for (const name of ['ovn-northd', 'ovnnb_db']) {
      const pid = readPid(join(this.central.dir, `${name}.pid`));
      if (pid === undefined) throw new Error(`${name} pidfile missing`);
      process.kill(pid, 'SIGTERM');
      await waitFor(`${name} to exit`, () => !alive(pid), 10_000);
    }
  }

  async startOvnController(): Promise<void> {
    await startOvnController({ ...this.ovs, encapIp: this.ovs.ip, sbRemote: `unix:${this.central.sbSocket}` });
  }

  // ---------------------------------------------------------------- CNI protocol

  /** One CNI request to this fixture's agent, or to another agent's socket (a nested agent in a VM). */
  request(req: Partial<AgentRequest> & Pick<AgentRequest, 'command'>, timeoutMs = 60_000, socket = this.cniSocket): Promise<AgentResponse> {
    const full: AgentRequest = {
      containerId: '', netns: '', ifname: '', cniVersion: '1.0.0',
      config: { annotationTimeoutMs: 5000, ovnInstalledTimeoutMs: 10_000 },
      ...req,
    };
    return new Promise((resolve, reject) => {
      const s = connect(socket);
      let buf = '';
      const t = setTimeout(() => s.destroy(new Error('agent did not answer in time')), timeoutMs);
      s.setEncoding('utf8');
      s.on('connect', () => s.write(JSON.stringify(full) + '\n'));
      s.on('data', (c: string) => (buf += c));
      s.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      s.on('end', () => {
        clearTimeout(t);
        try {
          resolve(JSON.parse(buf) as AgentResponse);
        } catch (e) {
          reject(new Error(`bad response line ${JSON.stringify(buf)}: ${(e as Error).message}`));
        }
      });
    });
  }

  addRequest(p: TestPod, over: Partial<AgentRequest> = {}): Partial<AgentRequest> & Pick<AgentRequest, 'command'> {
    return { command: 'ADD', containerId: p.containerId, netns: p.netnsPath, ifname: 'eth0', podNamespace: p.namespace, podName: p.name, podUid: p.uid, ...over };
  }

  // ---------------------------------------------------------------- what the watcher and kubelet would do

  /**
   * The watcher's node sync: the node switch linked to the cluster router, the subnet annotation, then (once the
   * running agent has announced its MAC on the Node) the management port's LSP.
   */
  async annotateNode(subnet = SUBNET): Promise<void> {
    await scriptNodeSwitch(this.central, NODE, subnet, subnet.replace(/\.0\/\d+$/, '.1'));
    await this.kube.patch(nodePath(NODE), { metadata: { annotations: { [NODE_SUBNET_ANNOTATION]: subnet } } });
    await scriptManagementPort(this.central, this.kube, NODE, subnet);
  }

  /** A pod object on this node, its netns, and (unless annotate=false) its LSP and network annotation. */
  async makePod(name: string, o: { annotate?: boolean } = {}): Promise<TestPod> {
    const n = ++this.podSeq;
    const ip = `10.244.1.${10 + n}`;
    const netns = `tag-${this.id}-p${n}`;
    await addNetns(netns);
    const created = await this.kube.create<KubeObject>('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName: NODE, containers: [{ name: 'c', image: 'x' }] },
    });
    const containerId = randomBytes(32).toString('hex');
    const pod: TestPod = {
      namespace: 'default', name, uid: created.metadata.uid ?? '', ip, mac: macFromIPv4(ip), netns, netnsPath: `/var/run/netns/${netns}`,
      containerId, hostVeth: hostVethName(containerId, 'eth0'),
    };
    if (o.annotate !== false) await this.annotatePod(pod);
    return pod;
  }

  async annotatePod(p: TestPod): Promise<void> {
    await scriptPodPort(this.central, { node: NODE, namespace: p.namespace, pod: p.name, ip: p.ip, mac: p.mac });
    const nets: PodNetworks = {
      default: {
        ip_addresses: [`${p.ip}/24`], mac_address: p.mac, gateway_ips: [GATEWAY],
        routes: [{ dest: '10.96.0.0/16', nextHop: GATEWAY }], logical_switch: NODE,
      },
    };
    await this.kube.patch(podPath(p.namespace, p.name), { metadata: { annotations: { [POD_NETWORKS_ANNOTATION]: JSON.stringify(nets) } } });
  }

  async deletePodObject(p: TestPod): Promise<void> {
    await this.kube.delete(podPath(p.namespace, p.name));
  }

  /** Restarts the node's ovsdb-server on the same database (vswitchd and ovn-controller reconnect by themselves). */
  async restartNodeOvsdb(): Promise<void> {
    const dir = this.ovs.dir;
    const pid = readPid(join(dir, 'ovsdb-server.pid'));
    if (pid === undefined) throw new Error('node ovsdb-server pidfile missing');
    process.kill(pid, 'SIGTERM');
    await waitFor('node ovsdb-server to exit', () => !alive(pid), 10_000);
    await run('ovsdb-server', [join(dir, 'conf.db'), `--remote=punix:${this.ovs.dbSocket}`, '--remote=db:Open_vSwitch,Open_vSwitch,manager_options',
      ...daemonFlags(dir, 'ovsdb-server')], { netns: this.nodeNs, env: daemonEnv(dir) });
  }

  // ---------------------------------------------------------------- observations

  vsctl(args: string[]): Promise<string> {
    return vsctl(this.ovs, args);
  }

  async ovsPortExists(name: string): Promise<boolean> {
    return (await this.vsctl(['list-ports', 'br-int'])).split('\n').includes(name);
  }

  async interfaceExists(name: string): Promise<boolean> {
    return (await this.vsctl(['--bare', '--columns=name', 'find', 'Interface', `name=${name}`])) !== '';
  }

  linkExists(netns: string, dev: string): Promise<boolean> {
    return succeeds('ip', ['-n', netns, 'link', 'show', dev]);
  }

  nbctl(args: string[]): Promise<string> {
    return run('ovn-nbctl', [`--db=unix:${this.central.nbSocket}`, '--timeout=20', ...args]);
  }

  sbctl(args: string[]): Promise<string> {
    return run('ovn-sbctl', [`--db=unix:${this.central.sbSocket}`, '--timeout=20', ...args]);
  }

  /** br-int's table 65 (logical to physical, where patch flows enter the peer datapath). */
  table65(): Promise<string> {
    return run('ovs-ofctl', ['dump-flows', `unix:${join(this.ovs.dir, 'br-int.mgmt')}`, 'table=65']);
  }

  inNs(netns: string, cmd: string, args: string[], timeoutMs = 20_000): Promise<string> {
    return run('ip', ['netns', 'exec', netns, cmd, ...args], { timeoutMs });
  }

  // ---------------------------------------------------------------- teardown

  async teardown(): Promise<void> {
    if (process.env.TAG_KEEP) {
      process.stderr.write(`TAG_KEEP: left ${this.dir} and netns tag-${this.id}-* running (clean up with: tsx test/integration/agent/cleanup.ts ${this.dir} ${this.id})\n`);
      return;
    }
    await stopDaemons(this.agentDir).catch(() => undefined);
    await stopDaemons(this.dir, ['ovn-controller', 'tessera-agent', 'apiserver']).catch(() => undefined);
    for (const ns of await listNetns()) if (ns.startsWith(`tag-${this.id}-`)) await delNetns(ns).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * An AgentFixture for the enclosing mocha suite: started before its tests, then `setup` (by default: start the
 * agent); torn down after them, with the agent log's tail on stderr when a test failed or TAG_LOG is set.
 * Call it inside `describe`.
 */
export function useAgentFixture(setup: (f: AgentFixture) => Promise<void> | void = (f) => void f.startAgent()): AgentFixture {
  const f = new AgentFixture();
  before(async function () {
    this.timeout(180_000);
    await f.start();
    await setup(f);
  });
  after(async function () {
    this.timeout(60_000);
    if (this.currentTest?.state === 'failed' || process.env.TAG_LOG) process.stderr.write(f.agentLog().split('\n').slice(-40).join('\n') + '\n');
    await f.teardown();
  });
  return f;
}
