// tessera-watcher end to end in the lab (prefix twa-): real OVN (northd, ovn-controller, userspace OVS),
// real tessera-agent/CNI. Pods across nodes talk, a ClusterIP service balances over its endpoints and
// follows EndpointSlice changes, and a NetworkPolicy matrix allows/denies exactly as specified, proven
// with real TCP connections (and pings) both ways.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, teardownLab, labNames, CIDRS, type Lab } from '../../lab/cluster.js';
import { alive } from '../../lab/daemon.js';
import { startWatcher, WATCHER_HEALTH_PORT } from '../../lab/tessera.js';
import { BIN_DIR } from '../../lab/paths.js';
import { serviceAccountTokenFile } from '../../lab/kube.js';
import { run } from '../../lab/exec.js';
import type { LabFile } from '../../lab/lab-file.js';

const exec = promisify(execFile);
const PREFIX = 'twa-';
const VIP = '10.96.0.10';
type LabPod = LabFile['pods'][number];

/** One TCP exchange with the pod server: the greeting's pod name, or undefined if no connection. */
async function tcp(from: LabPod, ip: string, port = 8080, waitS = 2): Promise<string | undefined> {
  try {
    const { stdout } = await exec('ip', ['netns', 'exec', from.netns, 'nc', '-N', '-w', String(waitS), ip, String(port)], { timeout: (waitS + 5) * 1000 });
    return /^hello from (\S+)$/m.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

async function ping(from: LabPod, ip: string): Promise<boolean> {
  try {
    await exec('ip', ['netns', 'exec', from.netns, 'ping', '-n', '-q', '-c', '1', '-w', '2', ip], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 20000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('watcher (e2e in the lab, prefix twa-)', function () {
  this.timeout(300_000);
  let lab: Lab;
  const pod = (ns: string, name: string): LabPod => {
    const p = lab.file.pods.find((x) => x.namespace === ns && x.name === name);
    assert.ok(p, `pod ${ns}/${name} in lab.json`);
    return p;
  };

  before(async () => {
    await teardownLab({ prefix: PREFIX }).catch(() => undefined);
    lab = await startLab({
      prefix: PREFIX,
      nodes: 2,
      pods: [
        { namespace: 'default', name: 'web-1', node: 'node1', labels: { app: 'web' } },
        { namespace: 'default', name: 'web-2', node: 'node2', labels: { app: 'web' } },
        { namespace: 'default', name: 'client', node: 'node1', labels: { app: 'client' } },
        { namespace: 'default', name: 'other', node: 'node2', labels: { app: 'other' } },
      ],
      services: [{ namespace: 'default', name: 'web', clusterIP: VIP, port: 80, targetPort: 8080, selector: { app: 'web' } }],
    });
    // A second namespace for namespaceSelector cases.
    await lab.kube!.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels: { team: 'yes' } } });
    await lab.addPod({ namespace: 'team', name: 'tpod', node: 'node2', labels: { app: 'client' } });
  });
  after(async () => {
    await teardownLab({ prefix: PREFIX });
  });

  it('pods across nodes reach each other (ping and TCP), on ports the watcher created', async () => {
    const checks = await lab.check();
    const bad = checks.filter((c) => !c.ok);
    assert.deepEqual(bad, [], JSON.stringify(bad));
    assert.equal(await tcp(pod('default', 'client'), pod('default', 'web-2').ip), 'default/web-2');
    const lsps = await lab.nbctl(['--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'external_ids:tessera.io/kind=pod']);
    assert.deepEqual(lsps.split(/\s+/).filter(Boolean).sort(), ['default_client', 'default_other', 'default_web-1', 'default_web-2', 'team_tpod']);
  });

  it('a ClusterIP service balances over its endpoints and follows EndpointSlice changes', async () => {
    const client = pod('default', 'client');
    const seen = new Set<string>();
    for (let i = 0; i < 16 && seen.size < 2; i++) {
      const s = await tcp(client, VIP, 80);
      assert.ok(s, `connection ${i} to ${VIP}:80`);
      seen.add(s);
    }
    assert.deepEqual([...seen].sort(), ['default/web-1', 'default/web-2']);
    const slicePath = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-lab';
    const web1 = pod('default', 'web-1');
    await lab.kube!.patch(slicePath, { endpoints: [{ addresses: [web1.ip], conditions: { ready: true } }] });
    await eventually(async () => (await lab.nbctl(['--bare', '--columns=vips', 'find', 'Load_Balancer', 'name="tessera_svc_default/web_tcp"'])).includes(`${web1.ip}:8080`) &&
      !(await lab.nbctl(['--bare', '--columns=vips', 'find', 'Load_Balancer', 'name="tessera_svc_default/web_tcp"'])).includes(pod('default', 'web-2').ip), 'LB follows the slice');
    for (let i = 0; i < 6; i++) assert.equal(await tcp(client, VIP, 80), 'default/web-1');
    // No ready endpoints: the LB rejects (a refused connection, not a hang).
    await lab.kube!.patch(slicePath, { endpoints: [{ addresses: [web1.ip], conditions: { ready: false } }] });
    await eventually(async () => (await tcp(client, VIP, 80, 1)) === undefined, 'no backends → refused');
    await lab.kube!.patch(slicePath, { endpoints: ['web-1', 'web-2'].map((n) => ({ addresses: [pod('default', n).ip], conditions: { ready: true } })) });
    await eventually(async () => (await tcp(client, VIP, 80)) !== undefined, 'backends back');
  });

  it('a UDP ClusterIP service balances datagrams over its endpoints', async () => {
    const vip = '10.96.0.11';
    await lab.kube!.create('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-udp', namespace: 'default' },
      spec: { clusterIP: vip, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 8080 }], selector: { app: 'web' } } });
    await lab.kube!.create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'web-udp-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web-udp' } }, addressType: 'IPv4',
      endpoints: ['web-1', 'web-2'].map((n) => ({ addresses: [pod('default', n).ip], conditions: { ready: true } })), ports: [{ name: 'dns', port: 8080, protocol: 'UDP' }] });
    const udp = async (): Promise<string | undefined> => {
      try {
        const out = await run('nc', ['-u', '-w', '1', vip, '53'], { netns: pod('default', 'client').netns, input: 'ask\n', timeoutMs: 6000 });
        return /^hello from (\S+)$/m.exec(out)?.[1];
      } catch {
        return undefined;
      }
    };
    await eventually(async () => (await udp()) !== undefined, `${vip}:53/udp answers`);
    const seen = new Set<string>();
    for (let i = 0; i < 20 && seen.size < 2; i++) seen.add((await udp()) ?? 'no answer');
    assert.deepEqual([...seen].sort(), ['default/web-1', 'default/web-2']);
  });

  describe('network policy matrix', () => {
    const np = '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies';
    const create = (name: string, spec: object) => lab.kube!.create(np, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'default' }, spec });
    const remove = (name: string) => lab.kube!.delete(`${np}/${name}`);
    /** Asserts every (from, to) pair: expected true = the TCP exchange completes, false = no connection. */
    async function matrix(cases: Array<[string, string, boolean]>, what: string): Promise<void> {
      // Policies take effect asynchronously (watcher → NB → northd → ovn-controller): wait for the first case.
      const byName = (n: string): LabPod => (n.includes('/') ? pod(n.split('/')[0], n.split('/')[1]) : pod('default', n));
      const [f0, t0, e0] = cases[0];
      await eventually(async () => ((await tcp(byName(f0), byName(t0).ip, 8080, 1)) !== undefined) === e0, `${what}: ${f0} → ${t0} ${e0 ? 'allowed' : 'denied'}`);
      const got = await Promise.all(cases.map(async ([f, t]) => {
        const to = byName(t);
        return (await tcp(byName(f), to.ip)) === `${to.namespace}/${to.name}`;
      }));
      const wrong = cases.filter((c, i) => got[i] !== c[2]).map(([f, t, e]) => `${f} → ${t}: expected ${e ? 'allowed' : 'denied'}`);
      assert.deepEqual(wrong, [], `${what}: ${wrong.join('; ')}`);
    }

    it('default deny ingress isolates only the selected pods, for ingress only', async () => {
      await create('deny-web', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] });
      await matrix([
        ['client', 'web-1', false], ['client', 'web-2', false], ['other', 'web-1', false],
        ['web-1', 'client', true], ['web-2', 'other', true], ['client', 'other', true],
      ], 'deny-web');
      assert.equal(await ping(pod('default', 'client'), pod('default', 'web-2').ip), false, 'ICMP denied too');
    });

    it('rules are unions: podSelector, namespaceSelector and ipBlock with except', async () => {
      await create('allow-client', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }] });
      await matrix([
        ['client', 'web-1', true], ['client', 'web-2', true], ['other', 'web-1', false], ['team/tpod', 'web-1', false],
      ], 'allow-client (same namespace only)');
      await create('allow-team', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'yes' } } }] }] });
      await matrix([['team/tpod', 'web-2', true], ['client', 'web-1', true], ['other', 'web-2', false]], 'allow-team');
      const otherIp = pod('default', 'other').ip;
      const clientIp = pod('default', 'client').ip;
      await create('allow-block', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/16', except: [`${clientIp}/32`] } }] }] });
      await matrix([['other', 'web-1', true], ['client', 'web-2', true]], `ipBlock 10.244.0.0/16 except client (other ${otherIp}; client still allowed by allow-client)`);
      await remove('allow-client');
      await matrix([['client', 'web-1', false], ['other', 'web-1', true], ['team/tpod', 'web-1', true]], 'except applies once allow-client is gone');
      await Promise.all(['allow-team', 'allow-block', 'deny-web'].map(remove));
      await matrix([['client', 'web-1', true], ['other', 'web-2', true]], 'all ingress policies removed');
    });

    it('egress: selected pods reach only what the rules allow, service VIPs by their backends; replies pass', async () => {
      await create('client-egress', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 8080 }] }] });
      await matrix([
        ['client', 'other', false], ['client', 'web-1', true], ['client', 'web-2', true],
        ['other', 'client', true], ['web-1', 'client', true],
      ], 'client-egress');
      assert.ok(await tcp(pod('default', 'client'), VIP, 80), 'the service VIP works: egress ACLs see the backend after load balancing');
      assert.equal(await ping(pod('default', 'client'), pod('default', 'other').ip), false);
      await remove('client-egress');
      await matrix([['client', 'other', true]], 'egress policy removed');
    });
  });

  describe('crash', () => {
    it('kill -9 the watcher mid-burst, restart it: no stale rows, no duplicate and no leaked IPs', async () => {
      const kube = lab.kube!;
      const pidfile = join(lab.central.dir, 'tessera-watcher.pid');
      const pid = Number(readFileSync(pidfile, 'utf8').trim());
      assert.ok(alive(pid), 'the lab watcher runs');
      const mk = (i: number) => kube.create('/api/v1/namespaces/default/pods', {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `burst-${i}`, namespace: 'default', labels: { burst: 'yes' } },
        spec: { nodeName: i % 2 ? 'node1' : 'node2', containers: [{ name: 'c', image: 'x' }] },
      });
      await Promise.all(Array.from({ length: 60 }, (_, i) => mk(i)));
      const annotated = async () => (await kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'burst=yes' })).items.filter((p) => p.metadata.annotations?.['tessera.io/pod-networks']).length;
      await eventually(async () => (await annotated()) >= 5, 'burst under way', 30000);
      process.kill(pid, 'SIGKILL');
      await eventually(async () => !alive(pid), 'watcher gone', 5000);
      const before = await annotated();
      // While it is down: some burst pods go away, more arrive.
      for (let i = 0; i < 10; i++) await kube.delete(`/api/v1/namespaces/default/pods/burst-${i}`);
      await Promise.all(Array.from({ length: 10 }, (_, i) => mk(60 + i)));
      const api = lab.file.apiserver!;
      const newPid = startWatcher({ binDir: BIN_DIR, dir: lab.central.dir, netns: labNames(PREFIX).central, apiserverUrl: api.url, tokenFile: serviceAccountTokenFile(api, 'tessera-watcher'), nbRemotes: lab.file.nb.remotes, cidrs: CIDRS, tls: lab.file.pki?.roles.watcher });
      assert.ok(alive(newPid));
      const want = new Set((await kube.list('/api/v1/namespaces/default/pods')).items.map((p) => `default_${p.metadata.name}`));
      await eventually(async () => {
        const names = (await lab.nbctl(['--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'external_ids:tessera.io/kind=pod'])).split(/\s+/).filter((n) => n.startsWith('default_'));
        return names.length === want.size && names.every((n) => want.has(n)) && (await annotated()) === 60;
      }, `all ${want.size} default pods have exactly one LSP and every burst pod is annotated (${before} were before the kill)`, 90000);
      const pods = (await kube.list('/api/v1/namespaces/default/pods')).items;
      const lspAddrs = (await lab.nbctl(['--bare', '--columns=addresses', 'find', 'Logical_Switch_Port', 'external_ids:tessera.io/kind=pod'])).split('\n').filter(Boolean).map((l) => l.split(' ')[1]);
      assert.equal(new Set(lspAddrs).size, lspAddrs.length, 'no IP on two ports');
      for (const p of pods) {
        const net = JSON.parse(p.metadata.annotations!['tessera.io/pod-networks']!) as { default: { ip_addresses: string[] } };
        assert.ok(lspAddrs.includes(net.default.ip_addresses[0].split('/')[0]), `${p.metadata.name}: annotation matches its LSP`);
      }
      // No leaked address: the restarted watcher holds exactly one per pod.
      const stats = JSON.parse(await lab.exec(labNames(PREFIX).central, process.execPath, ['-e', `fetch('http://127.0.0.1:${WATCHER_HEALTH_PORT}/stats').then(r => r.text()).then(t => process.stdout.write(t))`])) as { podAddresses: number };
      assert.equal(stats.podAddresses, lspAddrs.length);
      await Promise.all(Array.from({ length: 60 }, (_, i) => kube.delete(`/api/v1/namespaces/default/pods/burst-${i + 10}`)));
      await eventually(async () => !(await lab.nbctl(['--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'external_ids:tessera.io/kind=pod'])).includes('burst-'), 'burst ports removed', 30000);
    });
  });

  describe('afterwards', () => {
    it('after all this, NB holds no policy rows and no duplicate pod IPs', async () => {
      await eventually(async () => (await lab.nbctl(['--bare', '--columns=name', 'find', 'Port_Group', 'external_ids:tessera.io/kind=network-policy'])).trim() === '', 'port groups removed');
      const addrs = (await lab.nbctl(['--bare', '--columns=addresses', 'find', 'Logical_Switch_Port', 'external_ids:tessera.io/kind=pod'])).split('\n').filter(Boolean).map((l) => l.split(' ')[1]);
      assert.equal(new Set(addrs).size, addrs.length);
    });
  });
});
