import assert from 'node:assert/strict';
import { parseCommand, ConfigError } from '../../../lib/cli.js';
import { formatCIDR } from '../../../lib/ipnet/index.js';
import { WATCHER_SPEC, loadConfig } from '../../../watcher/config.js';

const base = ['--nb', 'unix:/tmp/nb.sock', '--kube-api', 'http://127.0.0.1:6443', '--kube-token-file', '/run/tessera/token'];
const load = (...extra: string[]) => loadConfig(parseCommand(WATCHER_SPEC, [...base, ...extra]));
const refused = (re: RegExp, ...extra: string[]) =>
  assert.throws(() => load(...extra), (e: Error) => e instanceof ConfigError && re.test(e.message) && !e.message.includes('\n'), `expected ${re}`);

describe('watcher config', () => {
  it('applies the documented defaults', () => {
    const c = load();
    assert.equal(formatCIDR(c.clusterCidr), '10.244.0.0/16');
    assert.equal(c.nodeSubnetPrefix, 24);
    assert.equal(formatCIDR(c.serviceCidr), '10.96.0.0/16');
    assert.equal(formatCIDR(c.joinCidr), '100.64.0.0/16');
    assert.deepEqual(c.nbRemotes, ['unix:/tmp/nb.sock']);
    assert.equal(c.subcommand, 'run');
    assert.equal(c.leaderElection, true);
  });
  it('accepts master-init and several remotes', () => {
    const c = loadConfig(parseCommand(WATCHER_SPEC, ['master-init', '--nb', 'tcp:10.0.0.1:6641,tcp:[fd00::1]:6641']));
    assert.equal(c.subcommand, 'master-init');
    assert.deepEqual(c.nbRemotes, ['tcp:10.0.0.1:6641', 'tcp:[fd00::1]:6641']);
  });
  it('enables OVN-IC only with --sb, and checks its remotes and mode', () => {
    assert.equal(load().sbRemotes, undefined);
    const c = load('--sb', 'tcp:10.0.0.1:6642,tcp:10.0.0.2:6642', '--ovn-ic', 'external', '--run-dir', '/run/t');
    assert.deepEqual(c.sbRemotes, ['tcp:10.0.0.1:6642', 'tcp:10.0.0.2:6642']);
    assert.equal(c.ovnIc, 'external');
    assert.equal(c.runDir, '/run/t');
    assert.equal(load().ovnIc, 'managed');
    refused(/^--ovn-ic must be managed or external/, '--ovn-ic', 'maybe');
    refused(/10\.0\.0\.1/, '--sb', 'tcp:10.0.0.1');
  });
  it('refuses bad CIDRs naming the flag', () => {
    refused(/^--cluster-cidr: not a CIDR/, '--cluster-cidr', '10.244.0.0');
    refused(/^--service-cidr: not a CIDR \(bad address\)/, '--service-cidr', '10.96.0/16');
    refused(/^--join-cidr: CIDR has host bits set/, '--join-cidr', '100.64.0.1/16');
  });
  it('refuses overlaps naming both flags', () => {
    refused(/^--service-cidr 10.0.0.0\/8 overlaps --cluster-cidr 10.244.0.0\/16$/, '--service-cidr', '10.0.0.0/8');
    refused(/^--join-cidr 10.96.128.0\/17 overlaps --service-cidr 10.96.0.0\/16$/, '--join-cidr', '10.96.128.0/17');
  });
  it('refuses mixed families', () => {
    refused(/--service-cidr fd00::\/108 is IPv6 but --cluster-cidr/, '--service-cidr', 'fd00::/108');
  });
  it('refuses node subnet prefixes that do not fit', () => {
    refused(/^--node-subnet-prefix 16 must be longer/, '--node-subnet-prefix', '16');
    refused(/^--node-subnet-prefix 31 must be longer/, '--node-subnet-prefix', '31');
    refused(/^--node-subnet-prefix must be a number/, '--node-subnet-prefix', 'x');
  });
  it('refuses bad remotes and missing credentials', () => {
    refused(/^--nb: "http:\/\/x" is not a remote/, '--nb', 'http://x');
    refused(/^--nb: port out of range/, '--nb', 'tcp:1.2.3.4:70000');
    assert.throws(() => loadConfig(parseCommand(WATCHER_SPEC, ['--nb', 'unix:/x']), {}), /--kube-api \(with --kube-token-file\) or --kubeconfig is required/);
    // In a pod, the service account (the Deployment in deploy/watcher passes neither flag).
    assert.equal(loadConfig(parseCommand(WATCHER_SPEC, ['--nb', 'unix:/x']), { KUBERNETES_SERVICE_HOST: '10.96.0.1' }).kubeApi, undefined);
    assert.throws(() => loadConfig(parseCommand(WATCHER_SPEC, ['--kube-api', 'http://x'])), (e: Error) => e instanceof ConfigError && e.message === '--nb is required');
    refused(/^--kube-api must be an http/, '--kube-api', 'ftp://x');
  });
  it('refuses unknown subcommands and bad worker counts', () => {
    assert.throws(() => loadConfig(parseCommand(WATCHER_SPEC, ['frobnicate', ...base])), /unknown subcommand "frobnicate"/);
    refused(/^--workers must be an integer/, '--workers', '0');
    refused(/^--api-connections must be an integer/, '--api-connections', '1000');
  });
});
