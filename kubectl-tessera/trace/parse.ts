// Parses ovn-trace's --detailed output (OVN 23.03) into the parts an operator asks about: the ACLs, load
// balancers, routes and NAT a packet meets, where it is output, and whether it is dropped.

/** One logical flow the packet hit: `<table>. <stage> (<source>): <match>, priority <p>, uuid <lflow uuid prefix>`. */
export interface FlowHit {
  /** Datapath the pipeline runs on (logical switch or router name). */
  dp: string;
  pipeline: 'ingress' | 'egress';
  table: number;
  stage: string;
  match: string;
  priority: number;
  /** First 8 hex digits of the SB Logical_Flow's UUID. */
  lflow: string;
  actions: string[];
}

export interface AclHit extends FlowHit {
  verdict: 'allow' | 'drop' | 'reject' | 'pass';
  /** The NB ACL priority (logical flow priority minus northd's 1000 offset). */
  aclPriority: number;
}

export interface LbHit extends FlowHit {
  vip: string;
  backends: string[];
}

export interface RouteHit extends FlowHit {
  /** The route's prefix, "src <prefix>" for a source-IP route. */
  prefix: string;
  outport: string;
  /** Absent for a connected network. */
  nexthop?: string;
}

export interface NatHit extends FlowHit {
  kind: 'snat' | 'dnat';
  ip: string;
}

export interface Output {
  port: string;
  type: string;
}

export interface TraceSummary {
  /** The microflow line ovn-trace echoes first (OpenFlow notation). */
  flow: string;
  /** Datapaths entered, in order (ingress pipelines). */
  datapaths: string[];
  acls: AclHit[];
  lbs: LbHit[];
  routes: RouteHit[];
  nats: NatHit[];
  outputs: Output[];
  verdict: 'output' | 'drop' | 'unknown';
  /** The flow whose action dropped the packet. */
  droppedBy?: FlowHit;
  hits: FlowHit[];
}

const SECTION_RE = /^(ingress|egress)\(dp="([^"]+)"/;
const FLOW_RE = /^\s*(\d+)\. (\S+) \(([^)]*)\): (.*), priority (\d+), uuid ([0-9a-f]+)$/;
const OUTPUT_RE = /\/\* output to "([^"]+)", type "([^"]*)" \*\//;
/** northd adds this to an ACL's priority for its ls_{in,out}_acl logical flow. */
export const ACL_PRIORITY_OFFSET = 1000;

export function parseTrace(text: string): TraceSummary {
  const lines = text.split('\n');
  const s: TraceSummary = { flow: (lines[0] ?? '').replace(/^# /, ''), datapaths: [], acls: [], lbs: [], routes: [], nats: [], outputs: [], verdict: 'unknown', hits: [] };
  let dp = '';
  let pipeline: FlowHit['pipeline'] = 'ingress';
  let cur: FlowHit | undefined;
  for (const line of lines) {
    const sec = SECTION_RE.exec(line);
    if (sec) {
      pipeline = sec[1] as FlowHit['pipeline'];
      dp = sec[2];
      if (pipeline === 'ingress') s.datapaths.push(dp);
      cur = undefined;
      continue;
    }
    const f = FLOW_RE.exec(line);
    if (f) {
      cur = { dp, pipeline, table: Number(f[1]), stage: f[2], match: f[4], priority: Number(f[5]), lflow: f[6], actions: [] };
      s.hits.push(cur);
      continue;
    }
    const out = OUTPUT_RE.exec(line);
    if (out) {
      s.outputs.push({ port: out[1], type: out[2] });
      continue;
    }
    if (cur && /^\s{4,}\S/.test(line) && !line.trim().startsWith('/*')) cur.actions.push(line.trim());
  }
  for (const h of s.hits) classify(s, h);
  const last = s.hits[s.hits.length - 1];
  if (last && last.actions.some((a) => /^(drop|reject)\b/.test(a))) {
    s.verdict = 'drop';
    s.droppedBy = last;
  } else if (s.outputs.length > 0) {
    s.verdict = 'output';
  }
  return s;
}

function classify(s: TraceSummary, h: FlowHit): void {
  const acts = h.actions.join(' ');
  if (/^ls_(in|out)_acl(_after_lb)?$/.test(h.stage) && h.priority >= ACL_PRIORITY_OFFSET && h.priority < 30_000) {
    const verdict = /\b(drop|reject);/.test(acts) ? (/reject/.test(acts) ? 'reject' : 'drop') : /\bnext\(pipeline=|reg8\[17\]|pass/.test(acts) && !/reg0\[1\] = 1/.test(acts) ? 'pass' : 'allow';
    s.acls.push({ ...h, verdict, aclPriority: h.priority - ACL_PRIORITY_OFFSET });
  }
  const lb = /ct_lb(?:_mark)?\(backends=([^);]*)/.exec(acts);
  if (lb) {
    const ip = /ip[46]\.dst == ([0-9a-f.:]+)/.exec(h.match)?.[1] ?? '';
    const port = /(?:tcp|udp|sctp)\.dst == (\d+)/.exec(h.match)?.[1];
    s.lbs.push({ ...h, vip: port ? `${ip}:${port}` : ip, backends: lb[1].split(',').map((b) => b.trim()).filter(Boolean) });
  }
  if (h.stage === 'lr_in_ip_routing') {
    const m = /ip[46]\.(dst|src) == ([0-9a-f.:/]+)/.exec(h.match);
    const prefix = m ? (m[1] === 'src' ? `src ${m[2]}` : m[2]) : h.match;
    const outport = /outport = "([^"]+)"/.exec(acts)?.[1] ?? '';
    // reg0 holds the next hop; `reg0 = ip4.dst` means the destination is on a connected network.
    const nexthop = /reg0 = ([0-9a-f.:]+);/.exec(acts)?.[1];
    s.routes.push({ ...h, prefix, outport, ...(nexthop ? { nexthop } : {}) });
  }
  for (const m of acts.matchAll(/ct_(snat|dnat)(?:_in_czone)?\(([0-9a-f.:]+)[^)]*\)/g)) s.nats.push({ ...h, kind: m[1] as NatHit['kind'], ip: m[2] });
}
