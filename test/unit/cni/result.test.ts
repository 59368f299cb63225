import { strict as assert } from 'node:assert';
import type { Result1x } from '../../../lib/cni-protocol.js';
import { hostVethName } from '../../../lib/cni-protocol.js';
import { CniError, toErrorJson } from '../../../cni/errors.js';
import { formatLogLine } from '../../../cni/log.js';
import { formatResult, mergeResults, parsePrevResult } from '../../../cni/result.js';

const agentResult: Result1x = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'vethabc', mac: '0a:58:0a:f4:01:05', mtu: 1400 },
    { name: 'eth0', mac: '0a:58:0a:f4:01:05', mtu: 1400, sandbox: '/var/run/netns/p' },
  ],
  ips: [{ address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 1 }],
  routes: [{ dst: '10.96.0.0/16', gw: '10.244.1.1', mtu: 1400 }],
  dns: {},
};

describe('cni: result versions', () => {
  it('0.4.0 adds ips[].version and drops 1.1 attributes', () => {
    const r = formatResult(agentResult, '0.4.0');
    assert.deepEqual(r, {
      cniVersion: '0.4.0',
      interfaces: [{ name: 'vethabc', mac: '0a:58:0a:f4:01:05' }, { name: 'eth0', mac: '0a:58:0a:f4:01:05', sandbox: '/var/run/netns/p' }],
      ips: [{ version: '4', address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 1 }],
      routes: [{ dst: '10.96.0.0/16', gw: '10.244.1.1' }],
      dns: {},
    });
    assert.equal(formatResult({ cniVersion: '1.0.0', ips: [{ address: 'fd00::5/64' }] }, '0.4.0').ips[0].version, '6');
  });

  it('1.0.0 has no ips[].version and no 1.1 attributes', () => {
    const r = formatResult(agentResult, '1.0.0');
    assert.deepEqual(r.ips, [{ address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 1 }]);
    assert.deepEqual(r.interfaces[1], { name: 'eth0', mac: '0a:58:0a:f4:01:05', sandbox: '/var/run/netns/p' });
    assert.deepEqual(r.routes, [{ dst: '10.96.0.0/16', gw: '10.244.1.1' }]);
  });

  it('1.1.0 keeps interface and route mtu', () => {
    const r = formatResult(agentResult, '1.1.0');
    assert.equal(r.cniVersion, '1.1.0');
    assert.equal(r.interfaces[1].mtu, 1400);
    assert.equal(r.routes[0].mtu, 1400);
  });

  it('round-trips 1.x -> 0.4.0 -> 1.x', () => {
    const back = parsePrevResult(formatResult(agentResult, '0.4.0') as unknown as Record<string, unknown>);
    assert.deepEqual(back.ips, agentResult.ips);
    assert.equal(back.interfaces?.[1].sandbox, '/var/run/netns/p');
  });

  it('merges after a previous interface plugin, shifting interface indexes', () => {
    const prev: Result1x = { cniVersion: '1.0.0', interfaces: [{ name: 'lo0' }], ips: [{ address: '192.168.9.2/24', interface: 0 }], routes: [] };
    const m = mergeResults(prev, agentResult);
    assert.equal(m.interfaces?.length, 3);
    assert.deepEqual(m.ips?.map((i) => i.interface), [0, 2]);
    assert.equal(mergeResults(undefined, agentResult), agentResult);
  });
});

describe('cni: error JSON', () => {
  it('has the spec shape {cniVersion, code, msg, details?}', () => {
    assert.deepEqual(toErrorJson('1.0.0', new CniError(7, 'invalid network config: unknown field "x"')), { cniVersion: '1.0.0', code: 7, msg: 'invalid network config: unknown field "x"' });
    assert.deepEqual(toErrorJson('0.4.0', new CniError(11, 'later', 'agent down')), { cniVersion: '0.4.0', code: 11, msg: 'later', details: 'agent down' });
  });

  it('turns unexpected exceptions into code 5 keeping the message', () => {
    assert.deepEqual(toErrorJson('1.1.0', new Error('boom')), { cniVersion: '1.1.0', code: 5, msg: 'internal error: boom' });
  });
});

describe('cni: log line and host veth name', () => {
  it('one line per call with timing', () => {
    const l = formatLogLine({ command: 'ADD', containerId: 'c1', ifname: 'eth0', pod: 'ns/p', ms: 12.345, code: 0 }, new Date(0));
    assert.equal(l, '1970-01-01T00:00:00.000Z ADD container=c1 ifname=eth0 pod=ns/p ok ms=12.3\n');
    assert.match(formatLogLine({ command: 'DEL', ms: 1, code: 11, msg: 'x "y"' }), /DEL error code=11 ms=1\.0 msg="x \\"y\\""\n$/);
  });

  it('host veth name: deterministic, 15 chars, per container and ifname', () => {
    const a = hostVethName('c1', 'eth0');
    assert.match(a, /^veth[0-9a-f]{11}$/);
    assert.equal(a, hostVethName('c1', 'eth0'));
    assert.notEqual(a, hostVethName('c1', 'eth1'));
  });
});
