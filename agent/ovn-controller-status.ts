// Whether the node's ovn-controller is alive and connected to the Southbound database: without it no pod
// port gets flows or ovn-installed, so the agent is not ready. The answer of
// `ovs-appctl -t <rundir>/ovn-controller.<pid>.ctl connection-status` is cached for a short while, so
// frequent /readyz probes cost at most one ovs-appctl per interval.
import { execa } from 'execa';
import { ovnControllerSocket } from './patch-flow-watchdog.js';

export type ConnectionStatusRunner = (ctl: string) => Promise<string>;

const appctl: ConnectionStatusRunner = async (ctl) => (await execa('ovs-appctl', ['-t', ctl, 'connection-status'], { timeout: 2000 })).stdout;

export class OvnControllerStatus {
  private at = -Infinity;
  private last: string | undefined = 'ovn-controller not checked yet';
  private pending: Promise<string | undefined> | undefined;

  constructor(
    private readonly rundir: string,
    private readonly ttlMs = 2000,
    private readonly run: ConnectionStatusRunner = appctl,
    private readonly now: () => number = Date.now,
  ) {}

  /** Undefined when ovn-controller answers "connected"; else why not (for the 503 body). */
  async notReady(): Promise<string | undefined> {
    if (this.now() - this.at < this.ttlMs) return this.last;
    this.pending ??= this.check().then((r) => {
      this.last = r;
      this.at = this.now();
      this.pending = undefined;
      return r;
    });
    return this.pending;
  }

  private async check(): Promise<string | undefined> {
    let ctl: string;
    try {
      ctl = ovnControllerSocket(this.rundir);
    } catch (err) {
      return `ovn-controller not running (${(err as Error).message.split('\n')[0]})`;
    }
    try {
      const out = (await this.run(ctl)).trim();
      return out === 'connected' ? undefined : `ovn-controller not connected to the Southbound database (${out || 'no answer'})`;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      return `ovn-controller not answering on ${ctl} (${(e.stderr || e.message).trim().split('\n')[0]})`;
    }
  }
}
