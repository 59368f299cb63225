import assert from 'node:assert/strict';
import { parseCommand, ConfigError } from '../../../lib/cli.js';
import { parseGateway, specs } from '../../../gateway/config.js';
import { withMapping } from '../../../gateway/state.js';

const parse = (args: string[]): ReturnType<typeof parseGateway> => parseGateway(parseCommand(specs.init!, args).values);
const base = ['--node-name', 'n1', '--physical-ip', '192.168.1.10/24', '--default-gw', '192.168.1.1', '--nb', 'tcp:192.168.1.2:6641'];

describe('gateway config', () => {
  it('option 1 derives the bridge from the NIC; defaults fill the CIDRs', () => {
    const c = parse([...base, '--physical-interface', 'eth1']);
    assert.deepEqual([c.mode, c.bridge, c.physicalInterface, c.physicalIp, c.physicalPrefix, c.clusterSubnet, c.joinCidr], ['dedicated', 'breth1', 'eth1', '192.168.1.10', 24, '10.244.0.0/16', '100.64.0.0/16']);
  });
  it('option 2 takes the bridge as given', () => {
    const c = parse([...base, '--bridge-interface', 'breth0']);
    assert.deepEqual([c.mode, c.bridge, c.physicalInterface], ['shared', 'breth0', undefined]);
  });
  it("node IP (reached through the management port): the physical IP with a shared NIC, --node-ip otherwise", () => {
    assert.equal(parse([...base, '--bridge-interface', 'breth0']).nodeIp, '192.168.1.10');
    assert.equal(parse([...base, '--physical-interface', 'eth1']).nodeIp, undefined);
    assert.equal(parse([...base, '--physical-interface', 'eth1', '--node-ip', '10.0.0.5']).nodeIp, '10.0.0.5');
    assert.throws(() => parse([...base, '--physical-interface', 'eth1', '--node-ip', '10.0.0.300']), (e: Error) => e instanceof ConfigError && /--node-ip/.test(e.message));
    assert.throws(() => parse([...base, '--physical-interface', 'eth1', '--node-ip', 'fd00::1']), /--node-ip "fd00::1": only IPv4/);
  });
  it('refuses bad input with a message naming the flag', () => {
    assert.throws(() => parse(base), (e: Error) => e instanceof ConfigError && /exactly one of --physical-interface/.test(e.message));
    assert.throws(() => parse([...base, '--physical-interface', 'eth1', '--bridge-interface', 'breth0']), /exactly one/);
    assert.throws(() => parse([...base.slice(0, 2), '--physical-ip', '192.168.1.10', ...base.slice(4), '--physical-interface', 'eth1']), /--physical-ip "192.168.1.10": expected ip\/len/);
    assert.throws(() => parse([...base.slice(0, 4), '--default-gw', '10.0.0.1', ...base.slice(6), '--physical-interface', 'eth1']), /--default-gw 10.0.0.1 is not inside the physical network/);
    assert.throws(() => parse([...base, '--physical-interface', 'eth1', '--cluster-ip-subnet', '10.244.0.1/16']), /--cluster-ip-subnet: CIDR has host bits set/);
    assert.throws(() => parse([...base, '--physical-interface', 'a-very-long-nic-name']), /--physical-interface: invalid NIC name/);
    assert.throws(() => parse([...base.slice(0, 6), '--nb', 'http://x', '--physical-interface', 'eth1']), /--nb: "http:\/\/x" is not unix:PATH/);
    assert.throws(() => parse(['--node-name', 'N_1', ...base.slice(2), '--physical-interface', 'eth1']), /--node-name "N_1" is not a valid Kubernetes node name/);
  });
  it('bridge mappings: adds ours, replaces an older mapping of the same network, keeps the rest', () => {
    assert.equal(withMapping(undefined, 'physnet', 'breth0'), 'physnet:breth0');
    assert.equal(withMapping('other:br-x,physnet:brold', 'physnet', 'breth0'), 'other:br-x,physnet:breth0');
  });
});
