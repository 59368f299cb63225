// bench/throughput: pod-to-pod TCP throughput across two nodes of a lab (real watcher, agents, OVN; OVS
// userspace datapath), as a ratio to node-to-node over the same underlay, with iperf3 (Debian). Every
// address lives in the lab's netns (prefix ttp-); each run is BENCH_TP_SECONDS (5) long. To say what limits
// the pod figure, the same node-to-node path is measured again with the pod path's segment size (MSS of the
// 1400-byte pod MTU) and with the underlay's segmentation offloads off, and the CPU of each node's
// ovs-vswitchd during the pod run is shown.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { startLab, POD_MTU, type Lab } from '../../lab/cluster.js';
import { UNDERLAY_NIC } from '../../lab/underlay.js';
import { cpuMs, f1, sleep } from '../lib/harness.js';

const SECONDS = Number(process.env.BENCH_TP_SECONDS ?? 5);
const PREFIX = 'ttp-';
const PORT = 5201;
const out = (s: string) => process.stdout.write(s + '\n');

interface Result {
  gbps: number;
  retransmits: number;
}

/** One iperf3 run: a one-shot server in `serverNs`, the client in `clientNs`; received bits/s. */
async function iperf(lab: Lab, serverNs: string, clientNs: string, ip: string, extra: string[] = []): Promise<Result> {
  const server = spawn('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-p', String(PORT)], { stdio: 'ignore' });
  try {
    await sleep(300);
    const json = await lab.exec(clientNs, 'iperf3', ['-c', ip, '-p', String(PORT), '-t', String(SECONDS), '-J', ...extra], { timeoutMs: (SECONDS + 20) * 1000 });
    const r = JSON.parse(json) as { end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number } } };
    return { gbps: r.end.sum_received.bits_per_second / 1e9, retransmits: r.end.sum_sent.retransmits ?? 0 };
  } finally {
    if (server.exitCode === null) server.kill('SIGTERM');
  }
}

/** Packets OVS dropped on each node's interfaces so far (rx_dropped + tx_dropped, from the Interface statistics). */
async function ovsDrops(lab: Lab): Promise<number[]> {
  return Promise.all(lab.nodes.map(async (n) => {
    const j = JSON.parse(await lab.vsctl(n.name, ['--format=json', '--columns=statistics', 'list', 'Interface'])) as { data: [[string, [string, number][]]][] };
    let d = 0;
    for (const [[, stats]] of j.data) for (const [k, v] of stats) if (k === 'rx_dropped' || k === 'tx_dropped') d += v;
    return d;
  }));
}

const pidOf = (dir: string, name: string): number => Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim());

async function main(): Promise<void> {
  out(`bench/throughput: iperf3 TCP, ${SECONDS} s per run, one stream; lab of 2 nodes (OVS userspace datapath, Geneve); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const lab = await startLab({
    prefix: PREFIX, stateDir: join(tmpdir(), `${PREFIX}lab`), nodes: 2, services: [], podServers: false,
    pods: [{ namespace: 'default', name: 'tp-a', node: 'node1' }, { namespace: 'default', name: 'tp-b', node: 'node2' }],
  });
  try {
    const [n1, n2] = lab.file.nodes;
    const a = lab.file.pods.find((p) => p.name === 'tp-a')!;
    const b = lab.file.pods.find((p) => p.name === 'tp-b')!;
    const node = await iperf(lab, n2.netns, n1.netns, n2.ip);
    const mss = POD_MTU - 40 - 12; // the pod path's MSS: pod MTU minus IPv4+TCP headers and TCP timestamps
    const nodeMss = await iperf(lab, n2.netns, n1.netns, n2.ip, ['-M', String(mss)]);
    const vswitchd = lab.nodes.map((n) => pidOf(n.dir, 'ovs-vswitchd'));
    const cpu0 = vswitchd.map(cpuMs);
    const drops0 = await ovsDrops(lab);
    const t0 = performance.now();
    const pod = await iperf(lab, b.netns, a.netns, b.ip);
    const wall = performance.now() - t0;
    const cpu = vswitchd.map((p, i) => (cpuMs(p) - cpu0[i]) / wall);
    const drops = (await ovsDrops(lab)).map((d, i) => d - drops0[i]);
    const offloads = (await lab.exec(a.netns, 'ethtool', ['-k', 'eth0'])).split('\n').filter((l) => /^(tcp-segmentation-offload|generic-segmentation-offload|tx-checksumming):/.test(l)).map((l) => l.trim()).join(', ');
    // Last: the underlay veths without segmentation offloads (TSO/GSO/GRO), as the userspace datapath's own ports are.
    for (const n of [n1, n2]) await lab.exec(n.netns, 'ethtool', ['-K', UNDERLAY_NIC, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
    const nodeNoOffload = await iperf(lab, n2.netns, n1.netns, n2.ip);
    const g = (r: Result) => `${r.gbps.toFixed(2)} Gbit/s (${r.retransmits} retransmits)`;
    out(`node-to-node over the underlay (through br-phy): ${g(node)}`);
    out(`pod-to-pod across nodes (Geneve, pod MTU ${POD_MTU}): ${g(pod)}; ratio pod/node ${(pod.gbps / node.gbps).toFixed(3)}`);
    out(`what limits it: node-to-node with the pod path's MSS ${mss}: ${g(nodeMss)}; with the underlay's TSO/GSO/GRO off: ${g(nodeNoOffload)}`);
    out(`  ovs-vswitchd CPU during the pod run: node1 ${f1(cpu[0] * 100)}%, node2 ${f1(cpu[1] * 100)}% of a core; packets OVS dropped on its interfaces during the pod run: node1 ${drops[0]}, node2 ${drops[1]}; pod eth0 offloads: ${offloads}`);
  } finally {
    await lab.stop();
    rmSync(join(tmpdir(), `${PREFIX}lab`), { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
