// `kubectl tessera trace SRC DST[:PORT] [--tcp|--udp|--icmp] [--raw] [--json]`.
import { ConfigError } from '../../lib/cli.js';
import { openNb, openSb } from '../db.js';
import { execCmd } from '../exec.js';
import { ovnDbArgs, type Target } from '../target.js';
import { parseTrace } from './parse.js';
import { microflow, resolveDestination, resolveSource, routerMac, type Proto } from './endpoints.js';
import { buildReport, formatReport, type TraceReport } from './report.js';

/** ct_next results ovn-trace reports: a new connection at every conntrack pass (its default, est, skips ACLs). */
const CT_NEW = Array.from({ length: 8 }, () => '--ct=new');

export interface TraceOptions {
  src: string;
  dst: string;
  proto: Proto;
  namespace: string;
}

export async function traceOnce(t: Target, o: TraceOptions): Promise<{ raw: string; report: TraceReport }> {
  const nb = await openNb(t.nb);
  try {
    const src = await resolveSource(t.kube, nb, o.src, o.namespace);
    const dst = await resolveDestination(t.kube, o.dst, o.namespace, src);
    const ethDst = dst.sameSwitchMac ?? await routerMac(nb, src.logicalSwitch);
    const flow = microflow(src, dst, ethDst, o.proto);
    const args = [...ovnDbArgs(t.sb), ...CT_NEW, src.logicalSwitch, flow];
    const r = await execCmd('ovn-trace', args, { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`ovn-trace failed (exit ${r.code}): ${r.stderr.trim()}`);
    const summary = parseTrace(r.stdout);
    const sb = await openSb(t.sb);
    try {
      const [nbAcls, lsps, bindings, chassis] = await Promise.all([nb.rows('ACL'), nb.rows('Logical_Switch_Port'), sb.rows('Port_Binding'), sb.rows('Chassis')]);
      const to = `${dst.id}${dst.kind === 'service' ? ` (${dst.ip})` : ''} ${o.proto}${o.proto === 'icmp' ? '' : `/${dst.port ?? 80}`}`;
      const report = buildReport({ from: `${src.id} (${src.ip}, ${src.node})`, to, summary, inport: src.inport, nbAcls, lsps, bindings, chassis });
      return { raw: r.stdout, report };
    } finally {
      sb.close();
    }
  } finally {
    nb.close();
  }
}

export async function traceCommand(t: Target, o: TraceOptions & { raw: boolean; json: boolean }): Promise<number> {
  if (!o.src || !o.dst) throw new ConfigError('usage: kubectl tessera trace NAMESPACE/POD NAMESPACE/POD|IP|NAMESPACE/SERVICE[:PORT] [--tcp|--udp|--icmp] [--raw]');
  const { raw, report } = await traceOnce(t, o);
  if (o.raw) process.stdout.write(raw.endsWith('\n') ? raw : `${raw}\n`);
  else if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(formatReport(report) + '\n');
  return 0;
}
