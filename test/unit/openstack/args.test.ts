import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../lib/cli.js';
import { parseOpenstackArgs } from '../../../openstack/args.js';
import { osIcRouterKey, OS_IC_ROUTER_KEY } from '../../../openstack/ic-connect.js';

const CONNECT = ['ic', 'connect', '--credentials-file', '/etc/tessera/openrc', '--nb', 'tcp:10.0.0.1:6641',
  '--sb', 'tcp:10.0.0.1:6642', '--ic-nb', 'tcp:10.0.0.3:6645', '--ic-sb', 'tcp:10.0.0.3:6646', '--gateway-chassis', 'gw1, gw2'];
const refused = (argv: string[], re: RegExp): void => assert.throws(() => parseOpenstackArgs(argv), (e: unknown) => e instanceof ConfigError && re.test(e.message));

describe('tessera-openstack arguments', () => {
  it('connect: router0 on ts as op-az by default, as the seed does', () => {
    const r = parseOpenstackArgs(CONNECT);
    assert.equal(r.verb, 'connect');
    if (r.verb !== 'connect') return;
    assert.deepEqual({ router: r.router, ts: r.ts, az: r.azName, gw: r.gatewayChassis, icSb: r.icSb }, { router: 'router0', ts: 'ts', az: 'op-az', gw: ['gw1', 'gw2'], icSb: ['tcp:10.0.0.3:6646'] });
    assert.equal(r.credentialsFile, '/etc/tessera/openrc');
  });

  it('connect per tenant: --router routerB --ts ts-b', () => {
    const r = parseOpenstackArgs([...CONNECT, '--router', 'routerB', '--ts', 'ts-b', '--az-name', 'op-az']);
    assert.ok(r.verb === 'connect' && r.router === 'routerB' && r.ts === 'ts-b' && r.azName === 'op-az');
  });

  it('disconnect needs only --nb; --ts picks the tenant and --ic-sb is optional', () => {
    const r = parseOpenstackArgs(['ic', 'disconnect', '--nb', 'tcp:10.0.0.1:6641', '--ts', 'ts-b']);
    assert.deepEqual({ verb: r.verb, ts: r.ts, az: r.azName, icSb: r.verb === 'disconnect' ? r.icSb : 'x' }, { verb: 'disconnect', ts: 'ts-b', az: 'op-az', icSb: undefined });
    const s = parseOpenstackArgs(['ic', 'disconnect', '--nb', 'tcp:10.0.0.1:6641', '--ic-sb', 'tcp:10.0.0.3:6646']);
    assert.ok(s.verb === 'disconnect' && s.ts === 'ts' && s.icSb?.[0] === 'tcp:10.0.0.3:6646');
  });

  it('refuses a bad ts or AZ name, a missing flag, another verb, and a Neutron flag in place of the credentials file', () => {
    refused([...CONNECT, '--ts', 'ts b'], /^--ts "ts b": want/);
    refused([...CONNECT, '--ts=-ts'], /^--ts "-ts"/);
    refused([...CONNECT, '--az-name', 'op az'], /^--az-name "op az"/);
    refused(['ic', 'connect', '--nb', 'tcp:x:1'], /--sb is required/);
    refused(['ic', 'disconnect'], /--nb is required/);
    refused(['ic', 'attach', '--nb', 'tcp:x:1'], /usage/);
    refused(['ic', 'connect', 'extra', ...CONNECT.slice(2)], /usage/);
    refused([...CONNECT, '--neutron-url', 'http://os:9696'], /neutron-url/);
  });

  it('records the router per transit switch: the seed key for ts, a suffixed one for another ts', () => {
    assert.equal(osIcRouterKey('ts'), OS_IC_ROUTER_KEY);
    assert.equal(osIcRouterKey('ts-b'), `${OS_IC_ROUTER_KEY}.ts-b`);
  });
});
