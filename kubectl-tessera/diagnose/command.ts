// `kubectl tessera diagnose`: one snapshot, every check, a table of OK/FAIL with a hint per failure; exit 1 on any FAIL.
import type { Target } from '../target.js';
import { controlPlaneChecks, icChecks, nodeChecks, patchFlowChecks } from './checks-control.js';
import { ipamChecks } from './checks-ipam.js';
import { podChecks, staleChecks } from './checks-pods.js';
import { formatTable, type CheckResult } from './result.js';
import { takeSnapshot } from './snapshot.js';

export async function diagnose(t: Target): Promise<CheckResult[]> {
  const s = await takeSnapshot(t);
  return [...controlPlaneChecks(s), ...nodeChecks(s), ...podChecks(s), ...staleChecks(s), ...ipamChecks(s), ...icChecks(s), ...patchFlowChecks(s)];
}

export async function diagnoseCommand(t: Target, o: { json: boolean }): Promise<number> {
  const rows = await diagnose(t);
  process.stdout.write(o.json ? JSON.stringify(rows, null, 2) + '\n' : `diagnose ${t.describe}\n${formatTable(rows)}\n`);
  return rows.every((r) => r.ok) ? 0 : 1;
}
