// tessera-gateway end to end, with real OVS/OVN (NB/SB/northd, per-node ovsdb-server + ovs-vswitchd netdev +
// ovn-controller) and an external host on the underlay outside the cluster. See
// test/integration/gateway/cluster.ts for the topology: gw1 uses the shared NIC (option 2), gw2 a dedicated NIC
// (option 1). The external host runs a listener that reports the peer address it sees; pod-a reports the same.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPid } from '../../lab/daemon.js';
import { nbctl } from '../../lab/ovn-central.js';
import { waitFor } from '../../lab/wait.js';
import {
  createLab, destroyLab, gatewayCli, IP, NS, nbSnapshot, ovsSnapshot, run, startGatewayRun, startGw1Controller, startPods,
  startProgram, succeeds, tcpAsk, waitLogLine, type GatewayLab,
} from '../integration/gateway/cluster.js';
import { netSnapshot } from '../integration/gateway/fixture.js';

const GW1_INIT = ['--node-name', 'gw1', '--bridge-interface', 'breth1', '--physical-ip', `${IP.gw1}/24`, '--default-gw', IP.ext];
const GW2_INIT = ['--node-name', 'gw2', '--physical-interface', 'eth2', '--physical-ip', `${IP.gw2Phys}/24`, '--default-gw', IP.ext];

/** Retries a TCP exchange until its answer matches (flows and bindings settle asynchronously); returns the answer. */
/** One UDP datagram to ip:port from `netns`; the answer (lab/external-host.ts answers every datagram). */
function udpAsk(netns: string, ip: string, port: number, timeoutS = 2): Promise<string> {
  return run('ip', ['netns', 'exec', netns, 'timeout', String(timeoutS + 1), 'nc', '-u', '-w', String(timeoutS), ip, String(port)], { input: 'ask\n', timeoutMs: (timeoutS + 3) * 1000 });
}

async function askUntil(netns: string, ip: string, port: number, re: RegExp, timeoutMs = 30_000, ask: typeof tcpAsk = tcpAsk): Promise<string> {
  let last = '';
  await waitFor(`${ip}:${port} from ${netns} to answer ${re} (last answer: "${last}")`, async () => {
    last = await ask(netns, ip, port, 2).catch((e: Error) => `error: ${e.message.split('\n')[0]}`);
    return re.test(last);
  }, timeoutMs, 300);
  return last.trim();
}

describe('tessera-gateway in the lab (real OVS/OVN, external host)', function () {
  this.timeout(300_000);
  let dir: string;
  let lab: GatewayLab;
  let gw1Before: Awaited<ReturnType<typeof netSnapshot>>;
  let gw1OvsBefore: Awaited<ReturnType<typeof ovsSnapshot>>;
  let gw2Before: Awaited<ReturnType<typeof netSnapshot>>;
  let gw2OvsBefore: Awaited<ReturnType<typeof ovsSnapshot>>;
  let nbBefore: string[];
  const figures: Record<string, number> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tgw-e2e-'));
    lab = await createLab(dir);
    startProgram(dir, 'ext-listener', NS.ext, 'lab/external-host.ts', ['--name', 'ext', '--port', '9000']);
    startProgram(dir, 'gw1-listener', NS.gw1, 'lab/external-host.ts', ['--name', 'gw1-host', '--port', '2222']);
    await waitLogLine(dir, 'ext-listener', /listening 9000/);
    await waitLogLine(dir, 'gw1-listener', /listening 2222/);
    gw1Before = await netSnapshot(NS.gw1, ['eth1', 'lo']);
    gw1OvsBefore = await ovsSnapshot(lab.gw1);
    gw2Before = await netSnapshot(NS.gw2, ['eth1', 'eth2', 'br-phy', 'lo']);
    gw2OvsBefore = await ovsSnapshot(lab.gw2);
  });

  after(async () => {
    if (process.env.KEEP_TGW === '1') return;
    await destroyLab(dir);
    rmSync(dir, { recursive: true, force: true });
    if (Object.keys(figures).length) process.stdout.write(`      gateway figures: ${JSON.stringify(figures)}\n`);
  });

  it('nics-to-bridge (shared NIC): gw1 keeps its address and default route on breth1 and still reaches the external host', async () => {
    const t0 = Date.now();
    const r = await gatewayCli(lab.gw1, ['nics-to-bridge', 'eth1']);
    figures.nicsToBridgeMs = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    const s = await netSnapshot(NS.gw1, ['eth1', 'breth1']);
    assert.deepEqual(s.addrs.eth1, []);
    assert.deepEqual((s.addrs.breth1 ?? []).map((a) => (a as { local: string }).local), [IP.gw1]);
    assert.ok(s.routes.some((x) => { const o = JSON.parse(x) as { dst: string; dev: string; gateway?: string }; return o.dst === 'default' && o.dev === 'breth1' && o.gateway === IP.ext; }), 'default route on breth1');
    assert.equal(await tcpAsk(NS.gw1, IP.ext, 9000), `ext sees ${IP.gw1}`);
    await startGw1Controller(lab);
    await startPods(lab);
    nbBefore = await nbSnapshot(lab.central);
  });

  it('init option 2 (shared NIC) builds GR_gw1, bound to its chassis, with join link, SNAT and return route; again is a no-op', async () => {
    const t0 = Date.now();
    const r = await gatewayCli(lab.gw1, ['init', ...GW1_INIT, '--nb', lab.central.nbRemote]);
    figures.initSharedMs = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await nbctl(lab.central, ['get', 'Logical_Router', 'GR_gw1', 'options:chassis']), 'gw1');
    assert.equal(await nbctl(lab.central, ['get', 'Logical_Router_Port', 'rtoj-GR_gw1', 'networks']), '["100.64.0.2/16"]');
    assert.match(await nbctl(lab.central, ['lr-nat-list', 'GR_gw1']), /snat\s+192\.168\.60\.11\s+10\.244\.0\.0\/16/);
    assert.match(await nbctl(lab.central, ['lr-route-list', 'GR_gw1']), /0\.0\.0\.0\/0\s+192\.168\.60\.1 dst-ip rtoe-GR_gw1/);
    assert.match(await nbctl(lab.central, ['lr-route-list', 'ovn_cluster_router']), /10\.244\.1\.0\/24\s+100\.64\.0\.2 src-ip/);
    assert.equal(await nbctl(lab.central, ['get', 'Logical_Switch_Port', 'breth1_gw1', 'options:network_name']), 'physnet');
    const flows = await run('ovs-ofctl', ['dump-flows', `unix:${lab.gw1.dir}/breth1.mgmt`]);
    assert.match(flows, /ct\(commit,zone=64000\)/, 'shared-NIC demux flows programmed once the patch port exists');
    const nb1 = await nbSnapshot(lab.central);
    const again = await gatewayCli(lab.gw1, ['init', ...GW1_INIT, '--nb', lab.central.nbRemote]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /NB gateway topology updated/);
    assert.deepEqual(await nbSnapshot(lab.central), nb1, 'second init changed nothing');
  });

  it('pod → external host leaves SNATed to the node IP (seen by the external host)', async () => {
    const t0 = Date.now();
    assert.equal(await askUntil(NS.podA, IP.ext, 9000, /^ext sees/), `ext sees ${IP.gw1}`);
    figures.firstEgressMs = Date.now() - t0;
  });

  it("the node's own traffic shares the NIC: node → external host and external host → node still work", async () => {
    assert.equal(await tcpAsk(NS.gw1, IP.ext, 9000), `ext sees ${IP.gw1}`);
    assert.equal(await tcpAsk(NS.ext, IP.gw1, 2222), `gw1-host sees ${IP.ext}`);
    assert.ok(await succeeds('ip', ['netns', 'exec', NS.ext, 'ping', '-c1', '-W2', IP.gw1]));
  });

  it('run on both gateways programs NodePort, LoadBalancer (ETP=Local) and externalIPs (affinity) services', async () => {
    startGatewayRun(lab, lab.gw1, [...GW1_INIT]);
    startGatewayRun(lab, lab.gw2, [...GW2_INIT]);
    await createServices(lab);
    const t0 = Date.now();
    await waitFor('service LBs on both GRs', async () => {
      const lbs = await nbctl(lab.central, ['--bare', '--columns=name', 'list', 'Load_Balancer']);
      return ['gw_gw1_default_web_tcp', 'gw_gw2_default_web_tcp', 'gw_gw1_default_lb_tcp', 'gw_gw2_default_ext_tcp'].every((n) => lbs.includes(n));
    }, 60_000);
    figures.servicesProgrammedMs = Date.now() - t0;
    assert.equal(await nbctl(lab.central, ['get', 'Load_Balancer', 'gw_gw1_default_lb_tcp', 'options:skip_snat']), '"true"');
    assert.equal(await nbctl(lab.central, ['get', 'Load_Balancer', 'gw_gw2_default_ext_tcp', 'options:affinity_timeout']), '"10800"');
    assert.match(await nbctl(lab.central, ['get', 'Load_Balancer', 'gw_gw1_default_web_tcp', 'vips']), /"192\.168\.60\.11:30080"="10\.244\.1\.5:8080"/);
  });

  it('external host → NodePort on gw1 (shared NIC) → pod', async () => {
    assert.match(await askUntil(NS.ext, IP.gw1, 30080, /^pod-a sees/), /^pod-a sees 100\.64\.0\.2$/);
  });

  it('external host → UDP NodePort on gw1 → pod, and on gw2 across the tunnel', async () => {
    assert.equal(await nbctl(lab.central, ['get', 'Load_Balancer', 'gw_gw1_default_dns_udp', 'protocol']), 'udp');
    assert.equal(await askUntil(NS.ext, IP.gw1, 30053, /^pod-a sees/, 30_000, udpAsk), 'pod-a sees 100.64.0.2');
    assert.equal(await askUntil(NS.ext, IP.gw2Phys, 30053, /^pod-a sees/, 60_000, udpAsk), 'pod-a sees 100.64.0.3');
  });

  it('external host → NodePort on gw2 (dedicated NIC) → pod on gw1, across the tunnel', async () => {
    assert.match(await askUntil(NS.ext, IP.gw2Phys, 30080, /^pod-a sees/, 60_000), /^pod-a sees 100\.64\.0\.3$/);
  });

  it('external host → LoadBalancer ingress IP with externalTrafficPolicy Local: the pod sees the client address', async () => {
    assert.equal(await askUntil(NS.ext, IP.lbIngress, 80, /^pod-a sees/), `pod-a sees ${IP.ext}`);
    // gw2 has no local endpoint of that service: its node port refuses.
    await assert.rejects(tcpAsk(NS.ext, IP.gw2Phys, 30081, 2));
  });

  it('a service without affinity spreads over both pods (one on each node)', async () => {
    const seen = new Set<string>();
    await askUntil(NS.ext, IP.gw1, 30082, /^pod-[ab] sees/);
    for (let i = 0; i < 30 && seen.size < 2; i++) seen.add((await tcpAsk(NS.ext, IP.gw1, 30082)).split(' ')[0]!);
    assert.deepEqual([...seen].sort(), ['pod-a', 'pod-b']);
  });

  it('external host → externalIP with session affinity ClientIP: every connection lands on the same pod', async () => {
    const first = await askUntil(NS.ext, IP.externalIp, 8081, /^pod-[ab] sees/);
    assert.match(first, /^pod-[ab] sees 100\.64\.0\.3$/);
    const backend = first.split(' ')[0];
    for (let i = 0; i < 12; i++) assert.equal((await tcpAsk(NS.ext, IP.externalIp, 8081)).split(' ')[0], backend, `connection ${i + 2}`);
  });

  it('run re-applies its state after a kill -9 and restart (same join IP, deleted rows come back)', async () => {
    const pid = readPid(join(dir, 'gateway-gw1.pid'));
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await nbctl(lab.central, ['lr-nat-del', 'GR_gw1']);
    await nbctl(lab.central, ['lb-del', 'gw_gw1_default_web_tcp']);
    const t0 = Date.now();
    startGatewayRun(lab, lab.gw1, [...GW1_INIT]);
    await waitFor('SNAT and NodePort LB back on GR_gw1', async () => {
      const nat = await nbctl(lab.central, ['lr-nat-list', 'GR_gw1']);
      const lb = await nbctl(lab.central, ['--bare', '--columns=_uuid', 'find', 'Load_Balancer', 'name=gw_gw1_default_web_tcp']);
      const attached = await nbctl(lab.central, ['get', 'Logical_Router', 'GR_gw1', 'load_balancer']);
      return /snat/.test(nat) && lb !== '' && attached.includes(lb);
    }, 60_000);
    figures.restartReconcileMs = Date.now() - t0;
    assert.equal(await nbctl(lab.central, ['get', 'Logical_Router_Port', 'rtoj-GR_gw1', 'networks']), '["100.64.0.2/16"]');
    assert.match(await askUntil(NS.ext, IP.gw1, 30080, /^pod-a sees/), /^pod-a sees 100\.64\.0\.2$/);
  });

  it('run restores its NB rows within 5 s when another writer deletes or edits them (NAT, route, LB, chassis)', async () => {
    const restore = async (what: string, breakIt: string[], ok: () => Promise<boolean>): Promise<void> => {
      assert.ok(await ok(), `${what}: in place before`);
      const t0 = Date.now();
      await nbctl(lab.central, breakIt);
      await waitFor(`${what} restored`, ok, 10_000, 50);
      const ms = Date.now() - t0;
      figures[`drift ${what} ms`] = ms;
      process.stdout.write(`      ${what}: restored in ${ms} ms\n`);
      assert.ok(ms < 5000, `${what}: restored in ${ms} ms, goal < 5000 ms`);
    };
    const snat = async () => /snat/.test(await nbctl(lab.central, ['lr-nat-list', 'GR_gw1']));
    const route = async () => /0\.0\.0\.0\/0/.test(await nbctl(lab.central, ['lr-route-list', 'GR_gw1']));
    const chassis = async () => (await nbctl(lab.central, ['get', 'Logical_Router', 'GR_gw1', 'options:chassis'])).replace(/"/g, '') !== 'elsewhere';
    const lbVips = async () => (await nbctl(lab.central, ['get', 'Load_Balancer', 'gw_gw1_default_web_tcp', 'vips']).catch(() => '')).includes(':30080');
    await restore('SNAT deleted', ['lr-nat-del', 'GR_gw1', 'snat'], snat);
    await restore('default route deleted', ['lr-route-del', 'GR_gw1', '0.0.0.0/0'], route);
    await restore('gateway chassis changed', ['set', 'Logical_Router', 'GR_gw1', 'options:chassis=elsewhere'], chassis);
    await restore('NodePort LB VIPs cleared', ['clear', 'Load_Balancer', 'gw_gw1_default_web_tcp', 'vips'], lbVips);
    await waitLogLine(dir, 'gateway-gw1', /NB drift repaired: gateway gw1/, 5_000);
    assert.match(await askUntil(NS.ext, IP.gw1, 30080, /^pod-a sees/), /^pod-a sees 100\.64\.0\.2$/);
  });

  it('run programs the bridge again within seconds when its flow table is emptied (as a restarted ovs-vswitchd has it)', async () => {
    const mgmt = `unix:${lab.gw1.dir}/breth1.mgmt`;
    const ours = async () => (await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', mgmt, 'cookie=0x7e55e7a/-1'])).split('\n').filter((l) => l.includes('cookie=')).length;
    // A run whose full resync is an hour away, so only the flow check can bring the flows back within the test.
    await stopRun(dir, 'gateway-gw1');
    const logFile = join(dir, 'gateway-gw1.log');
    const from = statSync(logFile).size; // the log is appended to: only this run's lines count
    startGatewayRun(lab, lab.gw1, [...GW1_INIT, '--health-listen', '127.0.0.1:9478'], 3600);
    await waitFor('the restarted run to program breth1', () => /programmed \d+ flows on breth1/.test(readFileSync(logFile).subarray(from).toString('utf8')), 30_000);
    const programmed = await ours();
    assert.ok(programmed > 3, `breth1 carries the gateway's flows (${programmed})`);
    await run('ovs-ofctl', ['-O', 'OpenFlow13', 'del-flows', mgmt]);
    const t0 = Date.now();
    await waitFor('the gateway flows back on breth1', async () => (await ours()) === programmed, 15_000, 200);
    figures.flowsBackMs = Date.now() - t0;
    await waitLogLine(dir, 'gateway-gw1', /flows on breth1 are missing/, 5_000);
    assert.match(await askUntil(NS.ext, IP.gw1, 30080, /^pod-a sees/), /^pod-a sees 100\.64\.0\.2$/);
    // /metrics counts that one repair; the passes of this run all succeeded.
    const metrics = await run('ip', ['netns', 'exec', NS.gw1, process.execPath, '-e',
      'fetch(process.argv[1]).then(async (r) => process.stdout.write(await r.text()))', 'http://127.0.0.1:9478/metrics']);
    const value = (series: string): number | undefined => {
      const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    assert.equal(value('tessera_gateway_flow_repairs_total'), 1);
    assert.ok(value('tessera_gateway_reconcile_passes_total{result="ok"}')! >= 2, 'the first pass and the repair pass');
    assert.equal(value('tessera_gateway_reconcile_passes_total{result="error"}'), 0);
    assert.equal(value('tessera_ovsdb_connected{db="nb"}'), 1);
  });

  it('cleanup on gw2 (dedicated NIC) leaves the node as it was', async () => {
    await stopRun(dir, 'gateway-gw2');
    const r = await gatewayCli(lab.gw2, ['cleanup', '--node-name', 'gw2', '--nb', lab.central.nbRemote]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await netSnapshot(NS.gw2, ['eth1', 'eth2', 'br-phy', 'lo']), gw2Before);
    const o = await ovsSnapshot(lab.gw2);
    delete o.bridges['br-int'];
    const ob = { ...gw2OvsBefore, bridges: { ...gw2OvsBefore.bridges } };
    delete ob.bridges['br-int'];
    assert.deepEqual(o, ob);
    assert.doesNotMatch((await nbSnapshot(lab.central)).join('\n'), /GR_gw2|ext_gw2|gw_gw2_/);
  });

  it('cleanup on gw1 (shared NIC) restores eth1 exactly as before nics-to-bridge, and NB as before init', async () => {
    await stopRun(dir, 'gateway-gw1');
    const r = await gatewayCli(lab.gw1, ['cleanup', '--node-name', 'gw1', '--nb', lab.central.nbRemote]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await netSnapshot(NS.gw1, ['eth1', 'lo']), gw1Before);
    const o = await ovsSnapshot(lab.gw1);
    delete o.bridges['br-int'];
    assert.deepEqual(o, gw1OvsBefore);
    assert.deepEqual(await nbSnapshot(lab.central), nbBefore);
    assert.equal(await tcpAsk(NS.gw1, IP.ext, 9000), `ext sees ${IP.gw1}`);
  });
});

async function stopRun(dir: string, name: string): Promise<void> {
  const pid = readPid(join(dir, `${name}.pid`));
  if (!pid) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  await waitFor(`${name} to exit`, () => {
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return / [ZX] /.test(st.slice(st.lastIndexOf(')')));
    } catch {
      return true;
    }
  }, 10_000);
}

async function createServices(lab: GatewayLab): Promise<void> {
  const k = lab.kube;
  const svc = (name: string, spec: object): object => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec });
  const slice = (svcName: string, both = false): object => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${svcName}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': svcName } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: [IP.podA], conditions: { ready: true }, nodeName: 'gw1' },
      ...(both ? [{ addresses: [IP.podB], conditions: { ready: true }, nodeName: 'gw2' }] : []),
    ],
    ports: [{ port: 8080, protocol: 'TCP' }],
  });
  await k.create('/api/v1/namespaces/default/services', svc('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }], selector: { app: 'a' } }) as never);
  await k.create('/api/v1/namespaces/default/services', svc('lb', {
    type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80, targetPort: 8080, nodePort: 30081, protocol: 'TCP' }], selector: { app: 'a' },
  }) as never);
  await k.patch('/api/v1/namespaces/default/services/lb/status', { status: { loadBalancer: { ingress: [{ ip: IP.lbIngress }] } } });
  await k.create('/api/v1/namespaces/default/services', svc('ext', {
    type: 'ClusterIP', externalIPs: [IP.externalIp], sessionAffinity: 'ClientIP', ports: [{ port: 8081, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'a' },
  }) as never);
  await k.create('/api/v1/namespaces/default/services', svc('dns', { type: 'NodePort', ports: [{ port: 53, targetPort: 8080, nodePort: 30053, protocol: 'UDP' }], selector: { app: 'a' } }) as never);
  await k.create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'dns-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'dns' } },
    addressType: 'IPv4', endpoints: [{ addresses: [IP.podA], conditions: { ready: true }, nodeName: 'gw1' }],
    ports: [{ port: 8080, protocol: 'UDP' }],
  } as never);
  await k.create('/api/v1/namespaces/default/services', svc('spread', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30082, protocol: 'TCP' }], selector: { app: 'ab' } }) as never);
  for (const s of ['web', 'lb']) await k.create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice(s) as never);
  for (const s of ['ext', 'spread']) await k.create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice(s, true) as never);
}
