// `kubectl tessera nbctl|sbctl ARGS` and `vsctl NODE ARGS`: the OVN/OVS tools pointed at the right database or
// node, so operators don't hunt for sockets, certificates or netns.
import { ConfigError } from '../lib/cli.js';
import { execCmd } from './exec.js';
import { ovnDbArgs, type Target } from './target.js';

async function relay(r: Promise<{ code: number; stdout: string; stderr: string }>): Promise<number> {
  const { code, stdout, stderr } = await r;
  if (stdout) process.stdout.write(stdout.endsWith('\n') ? stdout : `${stdout}\n`);
  if (stderr) process.stderr.write(stderr.endsWith('\n') ? stderr : `${stderr}\n`);
  return code;
}

export async function passthrough(t: Target, cmd: 'nbctl' | 'sbctl' | 'vsctl', args: string[]): Promise<number> {
  if (cmd === 'vsctl') {
    const [node, ...rest] = args;
    if (!node) throw new ConfigError('usage: kubectl tessera vsctl NODE ARGS...');
    const n = await t.node(node);
    return relay(n.run('ovs-vsctl', ['--timeout=30', ...rest], { timeoutMs: 60_000 }));
  }
  const db = cmd === 'nbctl' ? t.nb : t.sb;
  return relay(execCmd(`ovn-${cmd}`, [...ovnDbArgs(db), '--no-leader-only', '--timeout=30', ...args], { timeoutMs: 60_000 }));
}
