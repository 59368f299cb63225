import { strict as assert } from 'node:assert';
import { CniError } from '../../../cni/errors.js';
import { DEFAULT_DEL_UNREACHABLE_GRACE_MS, loadNetConf, normalizeRuntimeConfig } from '../../../cni/plugin.js';
import { DEFAULT_AGENT_SOCKET } from '../../../lib/cni-protocol.js';

const base = { cniVersion: '1.0.0', name: 'tessera', type: 'tessera-cni' };
const load = (o: unknown): ReturnType<typeof loadNetConf> => loadNetConf(JSON.stringify(o));

function fails(input: string | object, code: number, msg: RegExp): void {
  assert.throws(
    () => loadNetConf(typeof input === 'string' ? input : JSON.stringify(input)),
    (e: unknown) => {
      assert.ok(e instanceof CniError, `not a CniError: ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, msg);
      return true;
    },
  );
}

describe('cni: network config validation', () => {
  it('fills defaults for a minimal config', () => {
    const c = load(base);
    assert.equal(c.agentSocket, DEFAULT_AGENT_SOCKET);
    assert.equal(c.delUnreachableGraceMs, DEFAULT_DEL_UNREACHABLE_GRACE_MS);
    assert.ok(c.annotationTimeoutMs > 0 && c.ovnInstalledTimeoutMs > 0);
    assert.equal(c.logFile, undefined);
  });

  it('keeps the tessera fields', () => {
    const c = load({ ...base, agentSocket: '/run/t/cni.sock', logFile: '/var/log/t.log', annotationTimeoutMs: 100, ovnInstalledTimeoutMs: 200, mtu: 1400 });
    assert.deepEqual([c.agentSocket, c.logFile, c.annotationTimeoutMs, c.ovnInstalledTimeoutMs, c.mtu], ['/run/t/cni.sock', '/var/log/t.log', 100, 200, 1400]);
  });

  it('not JSON or not an object -> code 6', () => {
    fails('{"cniVersion":', 6, /failed to decode network config/);
    fails('[1,2]', 6, /not a JSON object/);
  });

  it('unsupported cniVersion -> code 1 naming both sides', () => {
    fails({ ...base, cniVersion: '0.3.1' }, 1, /"0\.3\.1".*0\.4\.0, 1\.0\.0, 1\.1\.0/);
    fails({ ...base, cniVersion: '2.0.0' }, 1, /incompatible CNI versions/);
  });

  it('unknown field -> code 7 naming it', () => {
    fails({ ...base, agentSockett: '/x' }, 7, /unknown field "agentSockett"/);
    fails({ ...base, ipam: { type: 'host-local' } }, 7, /unknown field "ipam"/);
  });

  it('missing required field -> code 7 naming it', () => {
    fails({ cniVersion: '1.0.0', type: 'tessera-cni' }, 7, /missing field "name"/);
  });

  it('wrong type or range -> code 7 naming the field', () => {
    fails({ ...base, mtu: 'big' }, 7, /field "mtu" must be integer/);
    fails({ ...base, mtu: 100 }, 7, /field "mtu" must be >= 576/);
    fails({ ...base, annotationTimeoutMs: -1 }, 7, /field "annotationTimeoutMs" must be >= 0/);
    fails({ ...base, agentSocket: 'relative.sock' }, 7, /field "agentSocket" must be an absolute path/);
    fails({ ...base, name: '-bad' }, 7, /field "name" must match pattern/);
    fails({ ...base, dns: { nameservers: '8.8.8.8' } }, 7, /field "dns.nameservers" must be array/);
  });

  it('reports every bad field at once', () => {
    fails({ ...base, foo: 1, mtu: 'x' }, 7, /unknown field "foo"; field "mtu" must be integer/);
  });

  it('reads runtimeConfig keys case-insensitively, as containerd capitalises them', () => {
    const c = load({ ...base, runtimeConfig: { PortMappings: [{ HostPort: 18081, ContainerPort: 80, Protocol: 'TCP', HostIP: '' }] } });
    assert.deepEqual(c.runtimeConfig, { portMappings: [{ hostPort: 18081, containerPort: 80, protocol: 'tcp', hostIP: '' }] });
  });

  it('defaults a port mapping protocol to tcp and names bad port mapping fields', () => {
    assert.deepEqual(normalizeRuntimeConfig({ portMappings: [{ hostPort: 1, containerPort: 2 }] }), { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }] });
    fails({ ...base, runtimeConfig: { portMappings: [{ HostPort: 70000, ContainerPort: 80 }] } }, 7, /field "runtimeConfig\.portMappings\[0\]\.hostPort" must be <= 65535/);
    fails({ ...base, runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 80, protocol: 'icmp' }] } }, 7, /field "runtimeConfig\.portMappings\[0\]\.protocol" must be one of "tcp", "udp", "sctp"/);
    fails({ ...base, runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 80, bogus: 1 }] } }, 7, /unknown field "runtimeConfig\.portMappings\[0\]\.bogus"/);
    fails({ ...base, runtimeConfig: { portMappings: [{ hostPort: 1 }] } }, 7, /missing field "runtimeConfig\.portMappings\[0\]\.containerPort"/);
  });

  it('reads a 0.4.0 prevResult into the 1.x shape', () => {
    const c = load({
      ...base,
      prevResult: { cniVersion: '0.4.0', interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/x' }], ips: [{ version: '4', address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 0 }] },
    });
    assert.deepEqual(c.prevResult?.ips, [{ address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 0 }]);
  });

  it('rejects a malformed prevResult naming the field', () => {
    fails({ ...base, prevResult: { cniVersion: '1.0.0', ips: [{ address: 5 }] } }, 7, /field "prevResult\.ips\[0\]\.address" must be string/);
    fails({ ...base, prevResult: { cniVersion: '1.0.0', interfaces: [], ips: [{ address: '10.0.0.2/24', interface: 2 }] } }, 7, /prevResult\.ips\[0\]\.interface 2/);
    fails({ ...base, prevResult: { cniVersion: '0.2.0' } }, 1, /prevResult has unsupported cniVersion/);
  });

  it('reads GC valid attachments under either key', () => {
    const a = load({ ...base, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] });
    assert.deepEqual(a.validAttachments, [{ containerId: 'c1', ifname: 'eth0' }]);
    const b = load({ ...base, cniVersion: '1.1.0', 'cni.dev/attachments': [{ containerID: 'c2', ifname: 'eth1' }] });
    assert.deepEqual(b.validAttachments, [{ containerId: 'c2', ifname: 'eth1' }]);
    fails({ ...base, 'cni.dev/valid-attachments': [{ ifname: 'eth0' }] }, 7, /missing field "cni\.dev\/valid-attachments\[0\]\.containerID"/);
  });
});
