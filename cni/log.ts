// The plugin's log: one line per call (timestamp, command, attachment, outcome, duration). The agent formats
// it and the native shim appends it to the config's logFile (the file is the node's, not the agent's).
// Never stdout: stdout carries the CNI result.

export interface CallRecord {
  command: string;
  containerId?: string;
  ifname?: string;
  pod?: string;
  ms: number;
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
  if (r.msg) parts.push(`msg=${JSON.stringify(r.msg)}`);
  return parts.join(' ') + '\n';
}
