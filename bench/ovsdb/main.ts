// bench/ovsdb: create 2,000 logical switch ports against a real NB ovsdb-server, three ways:
// our client batched (100 ports per transaction), our client one transaction per port, and
// ovn-nbctl one process per port (timed on a smaller sample, BENCH_NBCTL_PORTS, default 200).
// Prints ports/s for each and the ratios, all measured in this run.
import { OvsdbClient, ref, type Op } from '../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../lib/ovsdb/models/nb.js';
import { cpus, loadavg } from 'node:os';
import { startOvsdbServer, spawnOut, ovsEnv } from '../../testkit/ovsdb-server.js';

const PORTS = Number(process.env.BENCH_PORTS ?? 2000);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const NBCTL_PORTS = Number(process.env.BENCH_NBCTL_PORTS ?? 200);
const IN_FLIGHT = 16;

function mac(i: number): string {
  return `0a:58:0a:f4:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
}

function portOps(nb: OvsdbClient<NBTables>, sw: string, from: number, to: number): Op[] {
  const ops: Op[] = [];
  const refs = [];
  for (let i = from; i < to; i++) {
    const name = `${sw}-p${i}`;
    ops.push(nb.op.insert('Logical_Switch_Port', { name, addresses: [`${mac(i)} 10.244.${i >> 8}.${i & 0xff}`], external_ids: { 'tessera.io/owner': 'bench' } }, `p${i}`));
    refs.push(ref(`p${i}`));
  }
  ops.push(nb.op.mutate('Logical_Switch', [['name', '==', sw]], [['ports', 'insert', refs]]));
  return ops;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;

interface Measured {
  label: string;
  ports: number;
  seconds: number;
  /** A fresh client's monitor of all ports after the run (initial load into the cache). */
  monitorMs: number;
  /** CPU seconds this process (our client and the monitoring client) used during the run. */
  clientCpu: number;
}

/** Runs one method against its own fresh NB (empty db, one switch), so no method inherits another's rows. */
async function measure(label: string, ports: number, run: (nb: OvsdbClient<NBTables>, nbctl: (args: string[]) => Promise<string>) => Promise<void>): Promise<Measured> {
  const server = await startOvsdbServer({});
  const nb = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix });
  // A second client monitors the ports, as the watcher would; its cache is checked after the run.
  const watcher = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix });
  try {
    await watcher.monitor(['Logical_Switch_Port']);
    await nb.transact([nb.op.insert('Logical_Switch', { name: 'sw' })]);
    const env = ovsEnv(server.dir);
    const nbctl = (args: string[]): Promise<string> => spawnOut('ovn-nbctl', [`--db=${server.unix}`, ...args], env);
    const cpu0 = process.cpuUsage();
    const seconds = await timed(() => run(nb, nbctl));
    const cpu = process.cpuUsage(cpu0);
    // Check the work: every port exists and is attached, and the watcher's cache agrees.
    const [sw] = await nb.transact([nb.op.select('Logical_Switch', [['name', '==', 'sw']], ['ports'])]);
    const attached = sw.rows[0]?.ports.length ?? 0;
    if (attached !== ports) throw new Error(`${label}: expected ${ports} ports on the switch, server has ${attached}`);
    const end = Date.now() + 10000;
    while (watcher.cache.size('Logical_Switch_Port') !== ports && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    if (watcher.cache.size('Logical_Switch_Port') !== ports) throw new Error(`${label}: watcher cache has ${watcher.cache.size('Logical_Switch_Port')} ports, expected ${ports}`);
    const fresh = await OvsdbClient.connect(NB_MODEL, { remotes: server.unix });
    const m0 = performance.now();
    await fresh.monitor(['Logical_Switch_Port']);
    const monitorMs = performance.now() - m0;
    fresh.close();
    return { label, ports, seconds, monitorMs, clientCpu: (cpu.user + cpu.system) / 1e6 };
  } finally {
    nb.close();
    watcher.close();
    await server.cleanup();
  }
}

async function main(): Promise<void> {
  const results: Measured[] = [];
  results.push(
    await measure(`our client, ${BATCH} ports per transaction`, PORTS, async (nb) => {
      for (let i = 0; i < PORTS; i += BATCH) await nb.transact(portOps(nb, 'sw', i, Math.min(PORTS, i + BATCH)));
    }),
  );
  results.push(
    await measure('our client, one transaction per port', PORTS, async (nb) => {
      for (let i = 0; i < PORTS; i++) await nb.transact(portOps(nb, 'sw', i, i + 1));
    }),
  );
  results.push(
    await measure(`our client, one txn per port, ${IN_FLIGHT} in flight`, PORTS, async (nb) => {
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let i = next++; i < PORTS; i = next++) await nb.transact(portOps(nb, 'sw', i, i + 1));
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    }),
  );
  results.push(
    await measure(`ovn-nbctl, one process per port (${NBCTL_PORTS})`, NBCTL_PORTS, async (_nb, nbctl) => {
      for (let i = 0; i < NBCTL_PORTS; i++) await nbctl(['lsp-add', 'sw', `sw-p${i}`, '--', 'lsp-set-addresses', `sw-p${i}`, `${mac(i)} 10.244.${i >> 8}.${i & 0xff}`]);
    }),
  );
  const rss = process.memoryUsage();
  const rate = (m: Measured): number => m.ports / m.seconds;
  const [rb, rs, rp, rn] = results.map(rate) as [number, number, number, number];
  for (const m of results) {
    const perPort = ((m.clientCpu / m.ports) * 1e6).toFixed(0);
    console.log(`${m.label.padEnd(46)} ${String(m.ports).padStart(5)} ports ${m.seconds.toFixed(2).padStart(7)} s ${rate(m).toFixed(0).padStart(8)} ports/s   (node CPU ${m.clientCpu.toFixed(2)} s, ${perPort} µs/port)`);
  }
  console.log(`ratios: batched/nbctl ${(rb / rn).toFixed(1)}x, one-txn/nbctl ${(rs / rn).toFixed(1)}x, pipelined/nbctl ${(rp / rn).toFixed(1)}x, batched/one-txn ${(rb / rs).toFixed(1)}x`);
  console.log(`each method ran against its own fresh NB ovsdb-server over a unix socket, with a second client monitoring Logical_Switch_Port`);
  console.log(`ovn-nbctl was timed on ${NBCTL_PORTS} ports (BENCH_NBCTL_PORTS); its per-call cost grows with the db size, so the sample favours it`);
  console.log(`initial monitor of ${results[0]!.ports} ports into a fresh client's cache: ${results[0]!.monitorMs.toFixed(0)} ms`);
  console.log(`client process RSS ${mb(rss.rss)} (heap used ${mb(rss.heapUsed)}); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
}

main().catch((e: unknown) => {
  console.error(`bench/ovsdb: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
