// The scrape annotations, the metrics container ports, the ServiceMonitor's Services and the health listeners
// must name the same port per daemon, reachable from Prometheus (not 127.0.0.1), and no two daemons may share a
// port: all three run on the host network, and a control-plane node can also be a gateway node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..', 'deploy');
const read = (f: string): string => readFileSync(join(root, f), 'utf8');
const manifests = { 'tessera-agent': 'agent/daemonset.yaml', 'tessera-watcher': 'watcher/deployment.yaml', 'tessera-gateway': 'gateway/daemonset.yaml' };

describe('deploy: metrics scraping', () => {
  const ports = new Map<string, number>();
  for (const [app, file] of Object.entries(manifests)) {
    it(`${app}: scrape annotations, container port and --health-listen agree`, () => {
      const text = read(file);
      const listen = text.match(/--health-listen=([0-9.]+):(\d+)/);
      assert.ok(listen, '--health-listen');
      assert.equal(listen[1], '0.0.0.0', 'Prometheus scrapes the node address');
      const port = Number(listen[2]);
      assert.match(text, /prometheus\.io\/scrape: "true"/);
      assert.equal(text.match(/prometheus\.io\/port: "(\d+)"/)?.[1], String(port));
      assert.match(text, /prometheus\.io\/path: \/metrics/);
      assert.match(text, new RegExp(`- \\{ name: metrics, containerPort: ${port} \\}`));
      for (const probe of text.matchAll(/httpGet: \{([^}]*)\}/g)) assert.match(probe[1], new RegExp(`port: ${port} *$`));
      ports.set(app, port);
    });
  }

  it('the ServiceMonitor selects a Service per daemon on its metrics port, and the ports are distinct', () => {
    const docs = read('monitoring/servicemonitor.yaml').split(/^---$/m);
    for (const [app, port] of ports) {
      const svc = docs.find((d) => d.includes('kind: Service\n') && d.includes(`selector: { app: ${app} }`));
      assert.ok(svc, `Service for ${app}`);
      assert.match(svc, new RegExp(`port: ${port}, targetPort: metrics`));
      assert.match(svc, /tessera\.io\/metrics: "true"/);
    }
    const sm = docs.find((d) => d.includes('kind: ServiceMonitor'));
    assert.ok(sm);
    assert.match(sm, /matchLabels: \{ tessera\.io\/metrics: "true" \}/);
    assert.match(sm, /- port: metrics\n\s+path: \/metrics/);
    assert.equal(new Set(ports.values()).size, 3);
  });
});
