// A seeded random run against the real watcher: pods created (some with Kube-OVN requests, good and
// bad) and deleted, pod-networks annotations forged (other pods' IPs, garbage, spoofing MACs, foreign
// subnets), and the watcher killed with -9 and restarted in between. Afterwards it must converge to:
// no IP with two owners, every port exactly "<mac> <ip>" in its subnet, every annotation = its port.
// TESSERA_FUZZ_SEED=<n> replays a run; a failure prints its seed.
import assert from 'node:assert/strict';
import { WatcherFixture, until, sleep, type WatcherProc } from './fixture.js';
import { addressViolations } from './invariants.js';
import { mulberry32 } from '../../fixtures/prng.js';

const ANN = 'tessera.io/pod-networks';
const STEPS = 30;

describe('watcher: randomized annotation forgery, kills and restarts (real NB)', function () {
  this.timeout(120000);
  const f = new WatcherFixture();
  const seed = Number(process.env.TESSERA_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const rand = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  let w: WatcherProc;
  const log: string[] = [];

  before(async () => {
    await f.start();
    f.node('n1');
    f.node('n2');
    w = f.startWatcher();
    await until(() => f.ls('n1') && f.ls('n2'), 30000, 'node switches');
  });
  after(async () => {
    await f.stop();
  });

  const pods = () => f.list('pod', 'default').map((p) => p.metadata.name!);
  const base = (node: string) => f.ls(node)!.other_config.subnet.replace(/0\/24$/, '');
  /** The default network of an annotation, if it is one (a forged annotation may not be). */
  const netOf = (raw: string | undefined): Record<string, unknown> | undefined => {
    try {
      const d = (JSON.parse(raw ?? '') as { default?: unknown }).default;
      return d && typeof d === 'object' && Array.isArray((d as { ip_addresses?: unknown }).ip_addresses) ? (d as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const annotated = () => pods().map((p) => f.get('pod', 'default', p)?.metadata.annotations?.[ANN]).filter((a): a is string => !!netOf(a));

  function forgery(victim: string): string {
    const own = f.get('pod', 'default', victim)?.metadata.annotations?.[ANN];
    const net = netOf(own) ?? { logical_switch: 'n1', mac_address: '0a:58:0a:f4:00:09', gateway_ips: [], routes: [] };
    const other = annotated().length ? netOf(pick(annotated()))!.ip_addresses : ['10.244.0.9/24'];
    return pick([
      () => JSON.stringify({ default: { ...net, ip_addresses: other } }), // another pod's IP
      () => JSON.stringify({ default: { ...net, mac_address: `${String(net.mac_address)} 10.244.0.0/16` } }), // port_security spoof
      () => JSON.stringify({ default: { ...net, ip_addresses: ['10.244.0.0/16'] } }),
      () => JSON.stringify({ default: { ...net, ip_addresses: [`${base('n2')}${3 + Math.floor(rand() * 20)}/24`], logical_switch: 'n2' } }),
      () => JSON.stringify({ default: { ...net, mac_address: 'ff:ff:ff:ff:ff:ff' } }),
      () => '{not json',
      () => pick(annotated().length ? annotated() : ['{}']), // another pod's whole annotation
    ])();
  }

  function requests(node: string): Record<string, string> {
    const r: Record<string, string> = {};
    if (rand() < 0.3) r['ovn.kubernetes.io/ip_address'] = pick([`${base(node)}${3 + Math.floor(rand() * 30)}`, `${base(node)}1`, `${base(node)}255`, '10.244.250.3', 'x']);
    if (rand() < 0.2) r['ovn.kubernetes.io/mac_address'] = pick(['02:00:00:00:01:01', '01:00:5e:00:00:01', '02:00:00:00:00:01 10.244.0.0/16', `02:00:00:00:02:${String(Math.floor(rand() * 90) + 10)}`]);
    return r;
  }

  async function step(i: number): Promise<void> {
    const r = rand();
    const existing = pods();
    if (r < 0.3 || existing.length < 3) {
      const node = pick(['n1', 'n2']);
      const req = requests(node);
      f.pod('default', `p${i}`, node, { annotations: req });
      log.push(`create p${i} on ${node} ${JSON.stringify(req)}`);
    } else if (r < 0.4) {
      const p = pick(existing);
      f.remove('pod', 'default', p);
      log.push(`delete ${p}`);
    } else if (r < 0.85) {
      const p = pick(existing);
      const v = forgery(p);
      f.patch('pod', 'default', p, { metadata: { annotations: { [ANN]: v } } });
      log.push(`forge ${p} ${v}`);
    } else {
      await w.kill('SIGKILL');
      w = f.startWatcher();
      log.push('kill -9 and restart');
    }
    await sleep(Math.floor(rand() * 300));
  }

  /** Pods that asked for nothing must have a port; the rest may have been refused. */
  function unplaced(): string[] {
    return f.list('pod', 'default')
      .filter((p) => !Object.keys(p.metadata.annotations ?? {}).some((k) => k.startsWith('ovn.kubernetes.io/')))
      .map((p) => p.metadata.name!)
      .filter((n) => !f.lsp(`default_${n}`))
      .map((n) => `${n}: no port`);
  }

  it(`${STEPS} random steps converge to one owner per IP and annotations that match their ports`, async () => {
    try {
      for (let i = 0; i < STEPS; i++) await step(i);
      let last: string[] = [];
      await until(() => {
        last = [...addressViolations(f), ...unplaced()];
        return last.length === 0;
      }, 30000, 'the invariants to hold').catch(() => undefined);
      assert.deepEqual(last, [], 'invariants after the run');
      assert.ok(w.alive(), 'the watcher is running');
    } catch (err) {
      console.error(`address fuzz failed with TESSERA_FUZZ_SEED=${seed}; steps:\n  ${log.join('\n  ')}`);
      throw err;
    }
  });
});
