// One line of `diagnose`'s table: what was checked, OK or FAIL, what was seen, and what to do about a failure.
export interface CheckResult {
  area: string;
  subject: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

export const ok = (area: string, subject: string, detail: string): CheckResult => ({ area, subject, ok: true, detail });
export const fail = (area: string, subject: string, detail: string, hint: string): CheckResult => ({ area, subject, ok: false, detail, hint });

export function formatTable(rows: CheckResult[]): string {
  const w = (f: (r: CheckResult) => string): number => Math.max(...rows.map((r) => f(r).length), 4);
  const wa = w((r) => r.area);
  const ws = w((r) => r.subject);
  const out: string[] = [];
  for (const r of rows) {
    out.push(`${r.ok ? 'OK  ' : 'FAIL'}  ${r.area.padEnd(wa)}  ${r.subject.padEnd(ws)}  ${r.detail}`);
    if (!r.ok && r.hint) out.push(`${' '.repeat(6 + wa + 2 + ws + 2)}hint: ${r.hint}`);
  }
  const failed = rows.filter((r) => !r.ok).length;
  out.push('', failed ? `${failed} of ${rows.length} checks FAILED` : `all ${rows.length} checks OK`);
  return out.join('\n');
}
