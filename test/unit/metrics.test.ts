// lib/metrics: the /metrics handler over a real HTTP server, the OVSDB metrics fed by a client's events and cache,
// and the shipped Grafana dashboard, which may only chart metrics the daemons register.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Counter, instrumentOvsdb, metricOnce, newRegistry, serveMetrics, type MonitoredClient, type Registry } from '../../lib/metrics.js';
import { AgentMetrics } from '../../agent/metrics.js';
import { WatcherMetrics } from '../../watcher/metrics.js';
import { GatewayMetrics } from '../../gateway/metrics.js';
import { sample } from '../fixtures/prom.js';

class FakeClient extends EventEmitter implements MonitoredClient {
  connected = true;
  rows: Record<string, number> = {};
  readonly cache = {
    monitoredTables: (): string[] => Object.keys(this.rows),
    size: (t: never): number => this.rows[t as string] ?? 0,
  };
}

describe('lib/metrics', () => {
  let reg: Registry;
  let server: Server;
  let base: string;
  beforeEach(async () => {
    reg = newRegistry();
    server = createServer((req, res) => {
      if (!serveMetrics(reg, req, res)) res.writeHead(404).end('other\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('serves the registry as Prometheus text on GET /metrics, with HELP, and leaves other paths to the caller', async () => {
    const c = new Counter({ name: 'tessera_test_things_total', help: 'Things.', labelNames: ['kind'], registers: [reg] });
    c.inc({ kind: 'a' }, 3);
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    assert.match(text, /^# HELP tessera_test_things_total Things\.$/m);
    assert.equal(sample(text, 'tessera_test_things_total{kind="a"}'), 3);
    assert.match(text, /^tessera_process_resident_memory_bytes \d+/m, 'process metrics carry the tessera_ prefix');
    assert.equal((await fetch(`${base}/metrics?x=1`)).status, 200);
    const other = await fetch(`${base}/healthz`);
    assert.equal(other.status, 404);
    assert.equal(await other.text(), 'other\n');
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  });

  it('counts OVSDB reconnects from resynced events and reads monitor rows and connection state at scrape time', async () => {
    const nb = new FakeClient();
    const ovs = new FakeClient();
    nb.rows = { Logical_Switch: 2, Logical_Switch_Port: 7 };
    ovs.rows = { Interface: 4 };
    instrumentOvsdb(reg, 'nb', nb);
    instrumentOvsdb(reg, 'ovs', ovs); // the second client shares the metric families
    let text = await reg.metrics();
    assert.equal(sample(text, 'tessera_ovsdb_reconnects_total{db="nb"}'), 0);
    assert.equal(sample(text, 'tessera_ovsdb_monitor_rows{db="nb",table="Logical_Switch_Port"}'), 7);
    assert.equal(sample(text, 'tessera_ovsdb_monitor_rows{db="ovs",table="Interface"}'), 4);
    nb.emit('connected', 'unix:x'); // the first connect is not a reconnect
    nb.emit('resynced', 'unix:x');
    nb.emit('resynced', 'unix:x');
    nb.connected = false;
    nb.rows = { Logical_Switch: 2, Logical_Switch_Port: 9 };
    text = await reg.metrics();
    assert.equal(sample(text, 'tessera_ovsdb_reconnects_total{db="nb"}'), 2);
    assert.equal(sample(text, 'tessera_ovsdb_reconnects_total{db="ovs"}'), 0);
    assert.equal(sample(text, 'tessera_ovsdb_connected{db="nb"}'), 0);
    assert.equal(sample(text, 'tessera_ovsdb_connected{db="ovs"}'), 1);
    assert.equal(sample(text, 'tessera_ovsdb_monitor_rows{db="nb",table="Logical_Switch_Port"}'), 9);
  });

  it('metricOnce returns the registered metric instead of failing on the duplicate name', () => {
    const make = () => new Counter({ name: 'tessera_test_once_total', help: 'x', registers: [reg] });
    assert.equal(metricOnce(reg, 'tessera_test_once_total', make), metricOnce(reg, 'tessera_test_once_total', make));
  });
});

describe('daemon metrics', () => {
  it('are all prefixed tessera_ with HELP, and the Grafana dashboard charts only metrics that exist', async () => {
    const reg = newRegistry({ processMetrics: false });
    new AgentMetrics(reg, () => 0);
    new WatcherMetrics(reg);
    new GatewayMetrics(reg);
    instrumentOvsdb(reg, 'nb', new FakeClient());
    const families = (await reg.getMetricsAsJSON()).map((m) => ({ name: m.name, help: m.help, type: String(m.type) }));
    for (const f of families) {
      assert.match(f.name, /^tessera_/);
      assert.ok(f.help.length > 10, `${f.name} has HELP`);
    }
    const series = new Set<string>();
    for (const f of families) {
      series.add(f.name);
      if (f.type === 'histogram') for (const s of ['_bucket', '_count', '_sum']) series.add(f.name + s);
    }
    const dash = JSON.parse(readFileSync(join(import.meta.dirname, '../../deploy/monitoring/grafana-dashboard.json'), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const used = new Set(dash.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/tessera_[a-z_]+/g) ?? [])));
    assert.ok(used.size >= 15);
    for (const m of used) assert.ok(series.has(m), `dashboard uses ${m}, which no daemon registers`);
    // Every family of the daemons is on the dashboard.
    for (const f of families) assert.ok([...used].some((u) => u.startsWith(f.name)), `${f.name} is not on the dashboard`);
  });
});
