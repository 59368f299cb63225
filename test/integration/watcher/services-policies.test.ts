// Services → LB rows updated in place; NetworkPolicies → port groups, address sets and ACLs; pod
// release only after the LSP is gone.
import assert from 'node:assert/strict';
import { useWatcherFixture, until, sleep } from './fixture.js';

describe('watcher: pod lifecycle, services and policies (real NB)', function () {
  this.timeout(90000);
  const f = useWatcherFixture(['n1', 'n2']);
  before(async () => {
    f.namespace('prod', { env: 'prod' });
    f.namespace('dev', { env: 'dev' });
    f.startWatcher();
    await until(() => f.ls('n1') && f.ls('n2'), 30000, 'node switches');
  });

  it('completed and deleted pods lose their LSP, then their address is reused', async () => {
    f.pod('default', 'done', 'n1');
    f.pod('default', 'gone', 'n1');
    const ipDone = (await until(() => f.podNetwork('default', 'done'), 10000, 'done annotated')).ip_addresses[0];
    const ipGone = (await until(() => f.podNetwork('default', 'gone'), 10000, 'gone annotated')).ip_addresses[0];
    f.setPodPhase('default', 'done', 'Succeeded');
    f.remove('pod', 'default', 'gone');
    await until(() => !f.lsp('default_done') && !f.lsp('default_gone'), 10000, 'LSPs removed');
    // Both addresses are free again: new pods on n1 get them (the allocator is round robin, so fill up).
    const seen = new Set<string>();
    for (let i = 0; i < 260 && !(seen.has(ipDone) && seen.has(ipGone)); i++) {
      f.pod('default', `fill-${i}`, 'n1');
      const n = await until(() => f.podNetwork('default', `fill-${i}`), 10000, `fill-${i}`);
      seen.add(n.ip_addresses[0]);
    }
    assert.ok(seen.has(ipDone) && seen.has(ipGone), 'released addresses were handed out again');
    const ips = f.nb.cache.list('Logical_Switch_Port').filter((p) => p.external_ids.pod).map((p) => p.addresses[0].split(' ')[1]);
    assert.equal(new Set(ips).size, ips.length, 'no duplicate IPs in NB');
    for (const p of f.list('pod', 'default')) if (p.metadata.name!.startsWith('fill-')) f.remove('pod', 'default', p.metadata.name!);
    await until(() => !f.nb.cache.find('Logical_Switch_Port', (l) => l.name.startsWith('default_fill-')), 20000, 'fill pods gone');
  });

  it('a service is one LB per protocol, updated in place as endpoints change; reject without endpoints', async () => {
    f.create('svc', { metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }] } });
    const tcp = await until(() => f.nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_default/web_tcp'), 10000, 'tcp LB');
    assert.deepEqual(tcp.vips, { '10.96.0.10:80': '' });
    assert.equal(tcp.options.reject, 'true');
    assert.equal(tcp.protocol, 'tcp');
    const udp = f.nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_default/web_udp');
    assert.deepEqual(udp?.vips, { '10.96.0.10:53': '' });
    const grp = f.nb.cache.lookup('Load_Balancer_Group', 'name', 'tessera_cluster_lbs')!;
    assert.ok(grp.load_balancer.includes(tcp._uuid) && grp.load_balancer.includes(udp!._uuid));
    const eps = (ips: string[], ready = true) => ips.map((ip) => ({ addresses: [ip], conditions: { ready } }));
    f.create('slice', {
      metadata: { namespace: 'default', name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [...eps(['10.244.0.5', '10.244.1.6']), ...eps(['10.244.1.7'], false)],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }],
    });
    await until(() => f.nb.cache.get('Load_Balancer', tcp._uuid)?.vips['10.96.0.10:80'] === '10.244.0.5:8080,10.244.1.6:8080', 10000, 'tcp backends');
    assert.equal(f.nb.cache.get('Load_Balancer', udp!._uuid)?.vips['10.96.0.10:53'], '10.244.0.5:5353,10.244.1.6:5353');
    f.patch('slice', 'default', 'web-abc', { endpoints: eps(['10.244.1.6', '10.244.1.7']) });
    await until(() => f.nb.cache.get('Load_Balancer', tcp._uuid)?.vips['10.96.0.10:80'] === '10.244.1.6:8080,10.244.1.7:8080', 10000, 'updated backends, same row');
    f.patch('svc', 'default', 'web', { spec: { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } } });
    await until(() => f.nb.cache.get('Load_Balancer', tcp._uuid)?.options.affinity_timeout === '600', 10000, 'affinity');
    assert.deepEqual(f.nb.cache.get('Load_Balancer', tcp._uuid)?.selection_fields, ['ip_src']);
    f.remove('svc', 'default', 'web');
    await until(() => !f.nb.cache.get('Load_Balancer', tcp._uuid) && !f.nb.cache.get('Load_Balancer', udp!._uuid), 10000, 'LBs deleted with the service');
  });

  it('a 100-endpoint service is one LB row', async () => {
    f.create('svc', { metadata: { namespace: 'default', name: 'big' }, spec: { clusterIP: '10.96.0.11', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] } });
    f.create('slice', {
      metadata: { namespace: 'default', name: 'big-1', labels: { 'kubernetes.io/service-name': 'big' } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 100 }, (_, i) => ({ addresses: [`10.244.${2 + Math.floor(i / 50)}.${10 + (i % 50)}`], conditions: { ready: true } })),
      ports: [{ port: 80, protocol: 'TCP' }],
    });
    const lb = await until(() => {
      const r = f.nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_default/big_tcp');
      return r && r.vips['10.96.0.11:80']?.split(',').length === 100 && r;
    }, 10000, '100 backends');
    assert.equal(f.nb.cache.filter('Load_Balancer', (l) => l.external_ids['tessera.io/object'] === 'default/big').length, 1);
    assert.ok(lb);
  });

  it('a policy becomes a port group of the selected pods, address sets of the peers, and ACLs', async () => {
    f.pod('prod', 'web', 'n1', { labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] });
    f.pod('prod', 'db', 'n2', { labels: { app: 'db' } });
    f.pod('dev', 'client', 'n2', { labels: { app: 'client' } });
    const webIp = (await until(() => f.podNetwork('prod', 'web'), 10000, 'web')).ip_addresses[0].split('/')[0];
    await until(() => f.podNetwork('prod', 'db') && f.podNetwork('dev', 'client'), 10000, 'db, client');
    const clientIp = f.podNetwork('dev', 'client')!.ip_addresses[0].split('/')[0];
    f.create('np', {
      metadata: { namespace: 'prod', name: 'web-allow' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: 'dev' } } }], ports: [{ port: 'http' }] }],
      },
    });
    const pg = await until(() => f.nb.cache.find('Port_Group', (p) => p.external_ids['tessera.io/object'] === 'prod/web-allow'), 10000, 'port group');
    assert.deepEqual(pg.ports, [f.lsp('prod_web')!._uuid]);
    const acls = pg.acls.map((u) => f.nb.cache.get('ACL', u)!);
    const matches = acls.map((a) => `${a.direction} ${a.priority} ${a.action} ${a.match}`).sort();
    const as = f.nb.cache.find('Address_Set', (a) => a.external_ids['tessera.io/object'] === 'prod/web-allow')!;
    assert.deepEqual(as.addresses, [clientIp]);
    assert.deepEqual(matches, [
      `to-lport 1000 drop outport == @${pg.name} && ip`,
      `to-lport 1001 allow outport == @${pg.name} && (arp || nd)`,
      `to-lport 1001 allow-related outport == @${pg.name} && ip && ip4.src == $${as.name} && (ip4.dst == {${webIp}} && tcp.dst == 8080)`,
      `to-lport 1001 allow-related outport == @${pg.name} && ip4.src == $tessera_node_mgmt`,
    ].sort());
    // A new pod in a matching namespace joins the address set; relabelling web out of the selector empties the port group.
    f.pod('dev', 'client2', 'n1', { labels: { app: 'client' } });
    const c2 = (await until(() => f.podNetwork('dev', 'client2'), 10000, 'client2')).ip_addresses[0].split('/')[0];
    await until(() => f.nb.cache.get('Address_Set', as._uuid)?.addresses.includes(c2), 10000, 'client2 in the address set');
    f.patch('ns', undefined, 'dev', { metadata: { labels: { env: 'other' } } });
    await until(() => f.nb.cache.get('Address_Set', as._uuid)?.addresses.length === 0, 10000, 'namespace relabel empties the set');
    const aclUuids = new Set(pg.acls);
    f.patch('pod', 'prod', 'web', { metadata: { labels: { app: 'other' } } });
    await until(() => f.nb.cache.get('Port_Group', pg._uuid)?.ports.length === 0, 10000, 'web left the port group');
    assert.deepEqual(new Set(f.nb.cache.get('Port_Group', pg._uuid)!.acls.filter((u) => aclUuids.has(u))).size, 3, 'unchanged ACLs kept in place');
    f.remove('np', 'prod', 'web-allow');
    await until(() => !f.nb.cache.get('Port_Group', pg._uuid) && !f.nb.cache.get('Address_Set', as._uuid), 10000, 'policy rows removed');
    assert.equal(f.nb.cache.filter('ACL', (a) => a.external_ids['tessera.io/object'] === 'prod/web-allow').length, 0, 'ACLs garbage-collected');
  });

  it('an invalid policy is reported as an Event and writes nothing', async () => {
    f.create('np', { metadata: { namespace: 'prod', name: 'bad' }, spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['192.168.0.0/16'] } }] }] } });
    const ev = await until(() => f.list('event', 'prod').find((e) => (e.involvedObject as { name: string }).name === 'bad'), 10000, 'Event');
    assert.equal(ev.reason, 'InvalidNetworkPolicy');
    assert.match(String(ev.message), /ipBlock.except 192.168.0.0\/16 is not inside cidr 10.0.0.0\/8/);
    await sleep(300);
    assert.equal(f.nb.cache.find('Port_Group', (p) => p.external_ids['tessera.io/object'] === 'prod/bad'), undefined);
  });
});
