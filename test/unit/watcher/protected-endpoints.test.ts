import assert from 'node:assert/strict';
import { ConfigError, parseCommand } from '../../../lib/cli.js';
import { WATCHER_SPEC, loadConfig } from '../../../watcher/config.js';
import { protectedEndpointsAcl, PROTECTED_PRIORITY } from '../../../watcher/policy/protected-endpoints.js';
import { ALLOW_PRIORITY, DENY_PRIORITY } from '../../../watcher/policy/translate.js';

const load = (...a: string[]) => loadConfig(parseCommand(WATCHER_SPEC, ['--kube-api', 'http://127.0.0.1:6443', ...a]));

describe('watcher protected endpoints', () => {
  it('derives host:port from tcp:/ssl: NB and SB remotes, skipping unix, loopback and DNS names', () => {
    const c = load('--nb', 'tcp:192.168.77.2:6641,unix:/run/nb.sock,tcp:127.0.0.1:6641,tcp:ovn-central:6641', '--sb', 'tcp:192.168.77.2:6642,tcp:[fd00::2]:6642',
      '--protected-endpoint', '192.168.77.2:6641', '--protected-endpoint', '[fd00::9]:9476');
    assert.deepEqual(c.protectedEndpoints.map((e) => `${e.ip}|${e.port}`).sort(), ['192.168.77.2|6641', '192.168.77.2|6642', 'fd00::2|6642', 'fd00::9|9476']);
    assert.deepEqual(load('--nb', 'unix:/run/nb.sock').protectedEndpoints, []);
  });
  it('refuses a malformed --protected-endpoint in one line', () => {
    for (const bad of ['192.168.77.2', 'central:6641', '192.168.77.2:0', '10.0.0.300:80', 'fd00::1:80']) {
      assert.throws(() => load('--nb', 'unix:/x', '--protected-endpoint', bad),
        (e: Error) => e instanceof ConfigError && e.message === `--protected-endpoint "${bad}": want IP:PORT or [IPv6]:PORT`);
    }
  });
  it('is one after-LB from-lport drop below the NetworkPolicy allows, grouping ports per host', () => {
    const acl = protectedEndpointsAcl(load('--nb', 'tcp:192.168.77.2:6641', '--sb', 'tcp:192.168.77.2:6642', '--protected-endpoint', '[fd00::9]:9476').protectedEndpoints);
    assert.ok(acl);
    assert.equal(acl.direction, 'from-lport');
    assert.equal(acl.action, 'drop');
    assert.deepEqual(acl.options, { 'apply-after-lb': 'true' });
    assert.ok(PROTECTED_PRIORITY < ALLOW_PRIORITY && PROTECTED_PRIORITY <= DENY_PRIORITY);
    assert.equal(acl.match, 'tcp && ((ip4.dst == 192.168.77.2 && tcp.dst == {6641, 6642}) || (ip6.dst == fd00::9 && tcp.dst == 9476))');
    assert.equal(protectedEndpointsAcl([]), undefined);
  });
});

describe('watcher protected node ports', () => {
  it('parses repeatable --protected-node-port into sorted, deduplicated ports (none by default)', () => {
    assert.deepEqual(load('--nb', 'unix:/x').protectedNodePorts, []);
    assert.deepEqual(load('--nb', 'unix:/x', '--protected-node-port', '9478', '--protected-node-port', '9476', '--protected-node-port', '9478').protectedNodePorts, [9476, 9478]);
    assert.deepEqual(load('--nb', 'unix:/x', '--protected-node-port', '1', '--protected-node-port', '65535').protectedNodePorts, [1, 65535]);
  });
  it('refuses a bad --protected-node-port in one line', () => {
    for (const bad of ['0', '65536', '-1', '94a', '', '9476,9478', '1.5', '123456']) {
      assert.throws(() => load('--nb', 'unix:/x', `--protected-node-port=${bad}`),
        (e: Error) => e instanceof ConfigError && e.message === `--protected-node-port "${bad}": want a port 1..65535`);
    }
  });
  it('adds one term for the node-IP and management address sets, alone or beside the endpoint terms', () => {
    const endpoints = load('--nb', 'tcp:192.168.77.2:6641', '--sb', 'tcp:192.168.77.2:6642').protectedEndpoints;
    assert.equal(protectedEndpointsAcl(endpoints)?.match, 'tcp && (ip4.dst == 192.168.77.2 && tcp.dst == {6641, 6642})');
    assert.equal(protectedEndpointsAcl(endpoints, [9476, 9478], 4)?.match,
      'tcp && ((ip4.dst == 192.168.77.2 && tcp.dst == {6641, 6642}) || (ip4.dst == {$tessera_node_ips, $tessera_node_mgmt} && tcp.dst == {9476, 9478}))');
    const only = protectedEndpointsAcl([], [9476], 4);
    assert.equal(only?.match, 'tcp && (ip4.dst == {$tessera_node_ips, $tessera_node_mgmt} && tcp.dst == 9476)');
    assert.equal(only?.priority, PROTECTED_PRIORITY);
    assert.equal(protectedEndpointsAcl([], [9476], 6)?.match, 'tcp && (ip6.dst == {$tessera_node_ips, $tessera_node_mgmt} && tcp.dst == 9476)');
  });
  it('leaves out packets from the cluster router\'s port (its MAC) when named', () => {
    assert.equal(protectedEndpointsAcl([], [9476, 9478], 4, '0a:58:0a:f4:01:01')?.match,
      'eth.src != 0a:58:0a:f4:01:01 && tcp && (ip4.dst == {$tessera_node_ips, $tessera_node_mgmt} && tcp.dst == {9476, 9478})');
  });
});
