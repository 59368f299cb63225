// NB drift (issue 19): rows the watcher owns, deleted or edited by another writer with ovn-nbctl, come back
// within 5 s (each test prints the time); rows of another writer, in and next to the watcher's objects,
// stay byte for byte through drift repairs, a restart and its full reconcile; a writer that keeps reverting
// one row gets backoff and a Warning Event while the rest keeps working.
import assert from 'node:assert/strict';
import { WatcherFixture, until, sleep } from './fixture.js';

const RESTORE_MS = 5000;

describe('watcher: NB drift repair (real NB, ovn-nbctl as the other writer)', function () {
  this.timeout(120000);
  const f = new WatcherFixture();
  /**
   * Runs `breakIt` (ovn-nbctl returns once its change is committed), waits until our own monitor has seen that
   * change (NB sends it before the watcher's restore), then until `restored` holds; prints the time from the start
   * of `breakIt`, ovn-nbctl's own run time included.
   */
  async function restoreTime(what: string, breakIt: () => Promise<unknown>, broken: () => boolean, restored: () => boolean): Promise<number> {
    let seen = false;
    const onChange = () => {
      if (broken()) seen = true;
    };
    f.nb.on('change', onChange);
    const t0 = Date.now();
    try {
      await breakIt();
      await until(() => seen, 5000, `${what}: the change reached our monitor`);
      await until(restored, 10000, `${what} restored`);
    } finally {
      f.nb.off('change', onChange);
    }
    const ms = Date.now() - t0;
    console.log(`      ${what}: restored in ${ms} ms`);
    assert.ok(ms < RESTORE_MS, `${what}: restored in ${ms} ms, goal < ${RESTORE_MS} ms`);
    return ms;
  }

  let pg = '';
  let webLsp = { addresses: [] as string[], port_security: [] as string[] };
  before(async () => {
    await f.start();
    f.node('n1');
    f.namespace('prod', { env: 'prod' });
    f.startWatcher();
    await until(() => f.ls('n1'), 30000, 'node switch');
    f.pod('prod', 'web', 'n1', { labels: { app: 'web' } });
    f.pod('prod', 'client', 'n1', { labels: { app: 'client' } });
    await until(() => f.podNetwork('prod', 'web') && f.podNetwork('prod', 'client'), 10000, 'pods annotated');
    f.create('svc', { metadata: { namespace: 'prod', name: 'web' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } });
    f.create('slice', {
      metadata: { namespace: 'prod', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.3'], conditions: { ready: true } }], ports: [{ port: 8080, protocol: 'TCP' }],
    });
    f.create('np', { metadata: { namespace: 'prod', name: 'web-allow' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] } });
    const g = await until(() => f.nb.cache.find('Port_Group', (p) => p.external_ids['tessera.io/object'] === 'prod/web-allow' && p.acls.length >= 3 && p.ports.length === 1), 10000, 'policy port group');
    pg = g.name;
    await until(() => f.nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_prod/web_tcp')?.vips['10.96.0.10:80'] === '10.244.0.3:8080', 10000, 'LB backends');
    const l = f.lsp('prod_web')!;
    webLsp = { addresses: l.addresses, port_security: l.port_security };
  });
  after(async () => {
    await f.stop();
  });

  const lspOk = () => {
    const l = f.lsp('prod_web');
    return !!l && l.addresses.join() === webLsp.addresses.join() && l.port_security.join() === webLsp.port_security.join() && f.ls('n1')!.ports.includes(l._uuid);
  };
  const pgOk = () => {
    const g = f.nb.cache.lookup('Port_Group', 'name', pg);
    return !!g && g.ports.length === 1 && g.ports[0] === f.lsp('prod_web')?._uuid && g.acls.length >= 3 && g.acls.every((u) => f.nb.cache.get('ACL', u));
  };

  it('a deleted pod switch port comes back with its addresses and port security, and in its port group', async () => {
    await restoreTime('LSP deleted', () => f.nbctl('lsp-del', 'prod_web'), () => !f.lsp('prod_web'), () => lspOk() && pgOk());
    const ev = await until(() => f.events('prod', 'web', 'NBDriftRepaired')[0], 5000, 'NBDriftRepaired on the pod');
    assert.match(String(ev.message), /Logical_Switch_Port prod_web: deleted/);
  });

  it('edited addresses and port security are set back', async () => {
    await restoreTime('LSP addresses edited', () => f.nbctl('lsp-set-addresses', 'prod_web', '0a:58:0a:f4:00:63 10.244.0.99'), () => !lspOk(), lspOk);
    await restoreTime('LSP port_security edited', () => f.nbctl('lsp-set-port-security', 'prod_web', ''), () => !lspOk(), lspOk);
  });

  it('a service load balancer, deleted or with its backends changed, comes back', async () => {
    const lbOk = () => f.nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_prod/web_tcp')?.vips['10.96.0.10:80'] === '10.244.0.3:8080';
    const grpOk = () => {
      const lb = f.nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_prod/web_tcp');
      return !!lb && !!f.nb.cache.lookup('Load_Balancer_Group', 'name', 'tessera_cluster_lbs')?.load_balancer.includes(lb._uuid);
    };
    await restoreTime('LB backends edited', () => f.nbctl('set', 'Load_Balancer', 'tessera_svc_prod/web_tcp', 'vips:"10.96.0.10:80"="10.9.9.9:80"'), () => !lbOk(), lbOk);
    await restoreTime('LB deleted', () => f.nbctl('lb-del', 'tessera_svc_prod/web_tcp'), () => !lbOk(), () => lbOk() && grpOk());
    await until(() => f.events('prod', 'web', 'NBDriftRepaired').some((e) => /Load_Balancer/.test(String(e.message))), 5000, 'NBDriftRepaired on the service');
  });

  it("a policy's port group with its ACLs, one ACL, and its address set come back", async () => {
    await restoreTime('port group + ACLs deleted', () => f.nbctl('pg-del', pg), () => !f.nb.cache.lookup('Port_Group', 'name', pg), pgOk);
    const drop = f.nb.cache.lookup('Port_Group', 'name', pg)!.acls.map((u) => f.nb.cache.get('ACL', u)!).find((a) => a.action === 'drop')!;
    await restoreTime('drop ACL deleted', () => f.nbctl('--type=port-group', 'acl-del', pg, drop.direction, String(drop.priority), drop.match), () => !pgOk() || !f.nb.cache.lookup('Port_Group', 'name', pg)!.acls.some((u) => f.nb.cache.get('ACL', u)?.action === 'drop'),
      () => pgOk() && f.nb.cache.lookup('Port_Group', 'name', pg)!.acls.some((u) => f.nb.cache.get('ACL', u)?.action === 'drop'));
    const as = f.nb.cache.find('Address_Set', (a) => a.external_ids['tessera.io/object'] === 'prod/web-allow')!;
    const want = as.addresses.join();
    assert.ok(want, 'the address set holds the client');
    await restoreTime('address set emptied', () => f.nbctl('clear', 'Address_Set', as.name, 'addresses'), () => f.nb.cache.lookup('Address_Set', 'name', as.name)?.addresses.join() !== want,
      () => f.nb.cache.lookup('Address_Set', 'name', as.name)?.addresses.join() === want);
    await restoreTime('address set deleted', () => f.nbctl('destroy', 'Address_Set', as.name), () => !f.nb.cache.lookup('Address_Set', 'name', as.name),
      () => f.nb.cache.lookup('Address_Set', 'name', as.name)?.addresses.join() === want);
    assert.ok(f.events('prod', 'web-allow', 'NBDriftRepaired').length > 0, 'NBDriftRepaired on the NetworkPolicy');
  });

  it('the join link and a node router port come back', async () => {
    const joinOk = () => !!f.nb.cache.lookup('Logical_Router_Port', 'name', 'rtoj-ovn_cluster_router') && !!f.lsp('jtor-ovn_cluster_router');
    await restoreTime('join router port deleted', () => f.nbctl('lrp-del', 'rtoj-ovn_cluster_router'), () => !joinOk(), joinOk);
    await restoreTime('join switch port deleted', () => f.nbctl('lsp-del', 'jtor-ovn_cluster_router'), () => !joinOk(), joinOk);
    const rtos = () => !!f.nb.cache.lookup('Logical_Router_Port', 'name', 'rtos-n1') && !!f.lsp('stor-n1');
    await restoreTime('node router port deleted', () => f.nbctl('lrp-del', 'rtos-n1'), () => !rtos(), rtos);
    await until(() => f.events('default', 'n1', 'NBDriftRepaired').length > 0, 5000, 'NBDriftRepaired on the Node');
  });

  it("another writer's port, ACLs and port group, in and next to ours, stay byte for byte through repairs and a restart", async () => {
    await f.nbctl('lsp-add', 'n1', 'foreign-port', '--', 'lsp-set-addresses', 'foreign-port', '02:00:00:00:00:01 10.244.0.200');
    await f.nbctl('pg-add', 'foreign_pg', 'foreign-port');
    await f.nbctl('--type=port-group', 'acl-add', 'foreign_pg', 'to-lport', '900', 'ip4.src == 192.168.7.7', 'drop');
    await f.nbctl('--type=switch', 'acl-add', 'n1', 'from-lport', '800', 'ip4.dst == 192.168.8.8', 'drop');
    await f.nbctl('--', 'create', 'Address_Set', 'name=foreign_as', 'addresses="192.168.9.9"');
    // A foreign port group that also holds our pod's port, and a foreign ACL on our policy's port group.
    await f.nbctl('pg-add', 'foreign_pg2', 'prod_web');
    await f.nbctl('--type=port-group', 'acl-add', pg, 'to-lport', '700', 'ip4.src == 192.168.6.6', 'allow');
    const snap = () => JSON.stringify({
      lsp: f.lsp('foreign-port'),
      pg: f.nb.cache.lookup('Port_Group', 'name', 'foreign_pg'),
      pg2: f.nb.cache.lookup('Port_Group', 'name', 'foreign_pg2'),
      acls: f.nb.cache.filter('ACL', (a) => !a.external_ids['tessera.io/owner']).sort((a, b) => a._uuid.localeCompare(b._uuid)),
      as: f.nb.cache.lookup('Address_Set', 'name', 'foreign_as'),
    });
    await until(() => f.nb.cache.lookup('Address_Set', 'name', 'foreign_as') && f.nb.cache.filter('ACL', (a) => !a.external_ids['tessera.io/owner']).length === 3, 5000, 'foreign rows in our cache');
    const before = snap();
    assert.ok(f.nb.cache.lookup('Port_Group', 'name', pg)!.acls.some((u) => f.nb.cache.get('ACL', u)?.priority === 700));
    // Repairs of the policy's port group (a foreign ACL on it) and of the node switch (a foreign port in it).
    const hasDrop = () => f.nb.cache.lookup('Port_Group', 'name', pg)!.acls.some((u) => f.nb.cache.get('ACL', u)?.action === 'drop');
    const drop = f.nb.cache.lookup('Port_Group', 'name', pg)!.acls.map((u) => f.nb.cache.get('ACL', u)!).find((a) => a.action === 'drop')!;
    await restoreTime('drop ACL deleted next to a foreign ACL', () => f.nbctl('--type=port-group', 'acl-del', pg, drop.direction, String(drop.priority), drop.match), () => !hasDrop(), () => pgOk() && hasDrop());
    await restoreTime('node router port deleted next to a foreign port', () => f.nbctl('lrp-del', 'rtos-n1'), () => !f.nb.cache.lookup('Logical_Router_Port', 'name', 'rtos-n1'),
      () => !!f.nb.cache.lookup('Logical_Router_Port', 'name', 'rtos-n1') && !!f.lsp('stor-n1'));
    // Restart: start-up rebuild and full reconcile.
    await f.procs[0].kill('SIGKILL');
    const p = f.startWatcher();
    await until(() => /reconcile \(start\) done/.test(p.log()), 30000, 'restart reconcile done');
    f.pod('prod', 'after', 'n1');
    await until(() => f.podNetwork('prod', 'after'), 10000, 'a new pod after the restart');
    await sleep(500);
    assert.equal(snap(), before, 'foreign rows unchanged, byte for byte');
    assert.ok(f.ls('n1')!.ports.includes(f.lsp('foreign-port')!._uuid), 'the foreign port is still in our switch');
  });

  it("removing a stale node switch of ours leaves another writer's router port of the same name alone", async () => {
    await f.nbctl('lrp-add', 'ovn_cluster_router', 'rtos-ghost', '02:00:00:00:00:09', '192.168.50.1/24');
    const lrpBefore = await until(() => f.nb.cache.lookup('Logical_Router_Port', 'name', 'rtos-ghost'), 5000, 'foreign rtos-ghost');
    // A switch with our owner ids for a Node that does not exist: drift repair runs the node sync, which removes it.
    let seen = false;
    const onChange = (ev: { table: string; row: object }) => {
      if (ev.table === 'Logical_Switch' && (ev.row as { name?: string }).name === 'ghost') seen = true;
    };
    f.nb.on('change', onChange);
    await f.nbctl('--', 'create', 'Logical_Switch', 'name=ghost', 'external_ids:"tessera.io/owner"=tessera-watcher', 'external_ids:"tessera.io/kind"=node', 'external_ids:"tessera.io/object"=ghost');
    await until(() => seen, 5000, 'stale switch seen by our monitor');
    f.nb.off('change', onChange);
    await until(() => !f.ls('ghost'), 10000, 'the stale switch of ours removed');
    await sleep(300);
    assert.deepEqual(f.nb.cache.lookup('Logical_Router_Port', 'name', 'rtos-ghost'), lrpBefore, 'the foreign router port is unchanged');
  });

  it('a writer that keeps reverting one row: repairs back off, a Warning Event, and other pods still get their network', async () => {
    const w = f.procs[f.procs.length - 1];
    const repairsOf = () => w.log().split('\n').filter((l) => l.includes('NB drift repaired: pod prod/web ')).length;
    const start = repairsOf();
    const fightsBefore = f.events('prod', 'web', 'NBDriftFighting').length;
    let stop = false;
    const fighter = (async () => {
      while (!stop) {
        await f.nbctl('lsp-set-addresses', 'prod_web', '0a:58:0a:f4:00:63 10.244.0.99').catch(() => undefined);
        await sleep(200);
      }
    })();
    const t0 = Date.now();
    const ev = await until(() => f.events('prod', 'web', 'NBDriftFighting')[fightsBefore], 15000, 'a new NBDriftFighting on the pod');
    console.log(`      NBDriftFighting after ${Date.now() - t0} ms: ${String(ev.message)}`);
    assert.equal(ev.type, 'Warning');
    f.pod('prod', 'during', 'n1');
    const tPod = Date.now();
    await until(() => f.podNetwork('prod', 'during') && f.lsp('prod_during'), 5000, 'a new pod gets its network during the fight');
    console.log(`      a new pod got its network in ${Date.now() - tPod} ms during the fight`);
    await sleep(6000);
    stop = true;
    await fighter;
    const n = repairsOf() - start;
    const secs = (Date.now() - t0) / 1000;
    console.log(`      ${n} repairs in ${secs.toFixed(1)} s against a writer reverting every ~200 ms`);
    // Backoff 0, 1, 2, 4, 8 s: at most ~6 repairs in this window, where a hot loop would make dozens.
    assert.ok(n <= 7, `${n} repairs: backoff bounds them`);
    assert.match(w.log(), /keeps changing OVN Northbound rows of pod prod\/web/);
    // The fight ends; after the backoff the row is ours again.
    await until(lspOk, 20000, 'the row restored after the other writer stopped');
  });
});
