// CNI_NETNS checks against the real kernel, with paths that need no netns of their own: the process's own netns,
// files, directories, a FIFO and a namespace of another kind must all be refused before anything is wired.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPodNetns } from '../../../agent/pod-netns.js';
import { CniError, CniErrorCode } from '../../../lib/cni-protocol.js';
import { loadLibc } from '../../../lib/netdev/index.js';

const refused = (path: string, msg: RegExp) =>
  assert.throws(() => openPodNetns(path), (e: unknown) => e instanceof CniError && e.code === CniErrorCode.InvalidEnvironment && msg.test(e.message));

describe('agent CNI_NETNS check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-netns-'));
  before(() => loadLibc());
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the agent\'s own netns however it is named', () => {
    refused('/proc/self/ns/net', /^CNI_NETNS \/proc\/self\/ns\/net is the node's own network namespace \(same as \/proc\/self\/ns\/net\)/);
    refused('/proc/thread-self/ns/net', /is the node's own network namespace/);
    refused(`/proc/${process.pid}/ns/net`, /is the node's own network namespace/);
  });

  it('refuses what is not a network namespace, naming the path', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    refused(file, new RegExp(`^CNI_NETNS ${file} is not a network namespace \\(a regular file\\)$`));
    refused(dir, /is not a network namespace \(a directory\)$/);
    refused(join(dir, 'missing'), /is not a network namespace \(ENOENT\)$/);
    refused('/proc/self/ns/uts', /^CNI_NETNS \/proc\/self\/ns\/uts is not a network namespace \(a namespace of another kind\)$/);
    refused('/dev/null', /is not a network namespace \(not a namespace file\)$/);
  });

  it('refuses a FIFO without blocking on it', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    refused(fifo, /is not a network namespace \(not a namespace file\)$/);
  });
});
