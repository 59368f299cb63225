// The shim's log: one appended line per call (timestamp, command, attachment, outcome, duration) to the
// config's logFile. Not winston (~40 ms to import). Never stdout: stdout carries the CNI result.
import { appendFileSync } from 'node:fs';

export interface CallRecord {
  command: string;
  containerId?: string;
  ifname?: string;
  pod?: string;
  ms: number;
  /** Agent call: ms until connected (includes loading `net`) and ms for the whole round trip. */
  agent?: { connectMs: number; totalMs: number };
  /** 0 on success, else the CNI error code. */
  code: number;
  msg?: string;
}

export function formatLogLine(r: CallRecord, at = new Date()): string {
  const parts = [at.toISOString(), r.command];
  if (r.containerId) parts.push(`container=${r.containerId}`);
  if (r.ifname) parts.push(`ifname=${r.ifname}`);
  if (r.pod) parts.push(`pod=${r.pod}`);
  parts.push(r.code === 0 ? 'ok' : `error code=${r.code}`, `ms=${r.ms.toFixed(1)}`);
  if (r.agent && Number.isFinite(r.agent.totalMs)) parts.push(`agent_ms=${r.agent.totalMs.toFixed(1)}`, `connect_ms=${r.agent.connectMs.toFixed(1)}`);
  if (r.msg) parts.push(`msg=${JSON.stringify(r.msg)}`);
  return parts.join(' ') + '\n';
}

export function appendLog(file: string | undefined, r: CallRecord): void {
  if (!file) return;
  try {
    appendFileSync(file, formatLogLine(r), { mode: 0o600 });
  } catch (e) {
    process.stderr.write(`tessera-cni: cannot write log file ${file}: ${(e as Error).message}\n`);
  }
}
