import { strict as assert } from 'node:assert';
import { parseCniArgs, readCommand, readEnv } from '../../../cni/env.js';
import { CniError } from '../../../cni/errors.js';

function throwsCode(fn: () => unknown, code: number, msg: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof CniError && e.code === code && msg.test(e.message));
}

const full = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/var/run/netns/cni-1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni' };

describe('cni: CNI_ARGS', () => {
  it('parses what containerd sends (IgnoreUnknown in the middle)', () => {
    const a = parseCniArgs('K8S_POD_INFRA_CONTAINER_ID=sb1;K8S_POD_UID=u-1;IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0');
    assert.deepEqual(a, { sandboxId: 'sb1', podUid: 'u-1', podNamespace: 'default', podName: 'web-0' });
  });

  it('empty is fine; values may contain "="', () => {
    assert.deepEqual(parseCniArgs(''), {});
    assert.deepEqual(parseCniArgs('K8S_POD_NAME=a=b;'), { podName: 'a=b' });
  });

  it('unknown key -> code 2 naming it, unless IgnoreUnknown=1 (or true) anywhere', () => {
    throwsCode(() => parseCniArgs('K8S_POD_NAME=p;FOO=bar'), 2, /"FOO" is not supported/);
    throwsCode(() => parseCniArgs('IgnoreUnknown=0;FOO=bar'), 2, /"FOO"/);
    assert.deepEqual(parseCniArgs('FOO=bar;IgnoreUnknown=true;K8S_POD_NAME=p'), { podName: 'p' });
  });

  it('a pair without "=" -> code 4 naming CNI_ARGS', () => {
    throwsCode(() => parseCniArgs('K8S_POD_NAME'), 4, /CNI_ARGS is invalid: "K8S_POD_NAME"/);
    throwsCode(() => parseCniArgs('=x'), 4, /CNI_ARGS/);
  });
});

describe('cni: environment variables', () => {
  it('CNI_COMMAND missing or unknown -> code 4', () => {
    throwsCode(() => readCommand({}), 4, /CNI_COMMAND is missing/);
    throwsCode(() => readCommand({ CNI_COMMAND: 'add' }), 4, /unknown CNI_COMMAND "add"/);
  });

  for (const cmd of ['ADD', 'CHECK'] as const) {
    for (const v of ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH']) {
      it(`${cmd} without ${v} -> code 4 naming it`, () => {
        throwsCode(() => readEnv(cmd, { ...full, [v]: undefined }), 4, new RegExp(`${v} is missing`));
      });
    }
  }

  it('DEL accepts an empty or missing CNI_NETNS, but needs CNI_CONTAINERID and CNI_IFNAME', () => {
    assert.equal(readEnv('DEL', { ...full, CNI_NETNS: '' }).netns, '');
    assert.equal(readEnv('DEL', { ...full, CNI_NETNS: undefined }).netns, '');
    throwsCode(() => readEnv('DEL', { ...full, CNI_CONTAINERID: '' }), 4, /CNI_CONTAINERID is missing/);
    throwsCode(() => readEnv('DEL', { ...full, CNI_IFNAME: undefined }), 4, /CNI_IFNAME is missing/);
  });

  it('GC and STATUS need only CNI_PATH', () => {
    assert.deepEqual(readEnv('GC', { CNI_PATH: '/a:/b' }).path, ['/a', '/b']);
    readEnv('STATUS', { CNI_PATH: '/a' });
    throwsCode(() => readEnv('STATUS', {}), 4, /CNI_PATH is missing/);
  });

  it('rejects malformed container ids, interface names and relative netns paths', () => {
    throwsCode(() => readEnv('ADD', { ...full, CNI_CONTAINERID: '../etc' }), 4, /CNI_CONTAINERID "\.\.\/etc" is invalid/);
    throwsCode(() => readEnv('ADD', { ...full, CNI_IFNAME: 'averyveryverylongname' }), 4, /CNI_IFNAME .* longer than 15/);
    throwsCode(() => readEnv('ADD', { ...full, CNI_IFNAME: 'eth:0' }), 4, /CNI_IFNAME/);
    throwsCode(() => readEnv('ADD', { ...full, CNI_NETNS: 'netns/x' }), 4, /CNI_NETNS .* absolute path/);
  });

  it('passes CNI_ARGS errors through', () => {
    throwsCode(() => readEnv('ADD', { ...full, CNI_ARGS: 'X=1' }), 2, /"X"/);
  });
});
