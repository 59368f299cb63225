// A normalized, diffable text of an OVN Northbound database: every row with its references replaced by the
// referenced row's name, sets and maps sorted, and what varies from run to run masked. The golden test compares it
// against a checked-in file so that a refactor of the NB writers cannot change NB contents silently.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

type Atom = string | number | boolean | ['uuid', string] | ['named-uuid', string];
type Value = Atom | ['set', Atom[]] | ['map', Array<[Atom, Atom]>];
interface DumpTable {
  caption: string;
  headings: string[];
  data: Value[][];
}
interface Row {
  table: string;
  uuid: string;
  cols: Record<string, Value>;
}

/** Tables of the lab's own set-up (listeners, certificates), not of what Tessera or northd writes. */
const SKIP_TABLES = new Set(['Connection', 'SSL']);
/** NB_Global columns that count configuration rounds or record times. */
const VOLATILE_COLUMNS: Record<string, Set<string>> = {
  NB_Global: new Set(['nb_cfg', 'nb_cfg_timestamp', 'sb_cfg', 'sb_cfg_timestamp', 'hv_cfg', 'hv_cfg_timestamp', 'connections', 'ssl']),
  // northd reports whether a chassis has claimed the port: status, not what Tessera wrote.
  Logical_Switch_Port: new Set(['up']),
};
/** Map keys whose values northd or ovn-ic pick at random or count. */
const VOLATILE_KEYS = new Set(['mac_prefix', 'svc_monitor_mac', 'max_tunid', 'northd_internal_version', 'requested-tnl-key', 'tessera.io/ic-config-uid']);
/** Columns that name a row (its label) when it has no `name`: what tells two such rows apart. */
const IDENTITY: Record<string, string[]> = {
  ACL: ['direction', 'priority', 'action', 'match'],
  NAT: ['type', 'logical_ip', 'external_ip'],
  Logical_Router_Static_Route: ['ip_prefix', 'nexthop', 'policy', 'output_port'],
  Logical_Router_Policy: ['priority', 'match', 'action'],
  NB_Global: [],
};

const MAC = /\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/gi;
const UID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
/** MACs Tessera derives (0a:58 + IPv4) stay; others (a kernel's or OVS's random ones) and object uids are masked. */
export const maskText = (s: string): string => s.replace(MAC, (m) => (m.toLowerCase().startsWith('0a:58:') ? m : '<mac>')).replace(UID, '<uid>');

function isUuid(v: unknown): v is ['uuid', string] {
  return Array.isArray(v) && v[0] === 'uuid';
}

function atoms(v: Value): Atom[] {
  if (Array.isArray(v) && v[0] === 'set') return v[1] as Atom[];
  if (Array.isArray(v) && v[0] === 'map') return [];
  return [v as Atom];
}

function parseDump(json: string): Row[] {
  const rows: Row[] = [];
  // One JSON object per table, one per line.
  const tables = json.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as DumpTable);
  for (const t of tables) {
    const table = t.caption.replace(/ table$/, '');
    if (SKIP_TABLES.has(table)) continue;
    for (const d of t.data) {
      const cols: Record<string, Value> = {};
      t.headings.forEach((h, i) => (cols[h] = d[i] as Value));
      const u = cols._uuid;
      rows.push({ table, uuid: isUuid(u) ? u[1] : String(u), cols });
    }
  }
  return rows;
}

/**
 * Pods on one node start concurrently, so which gets .3 and which .4 varies from run to run: a pod's address and MAC
 * (from its LSP) are written as <ns/pod ip> and <ns/pod mac> wherever they appear.
 */
function podAddressTokens(rows: Row[]): (s: string) => string {
  const subs: Array<[RegExp, string]> = [];
  for (const r of rows) {
    const ids = r.cols.external_ids;
    if (r.table !== 'Logical_Switch_Port' || !Array.isArray(ids) || ids[0] !== 'map') continue;
    const m = new Map((ids[1] as Array<[Atom, Atom]>).map(([k, v]) => [String(k), String(v)]));
    const pod = m.get('tessera.io/kind') === 'pod' ? m.get('tessera.io/object') : undefined;
    const addr = atoms(r.cols.addresses ?? '')[0];
    if (!pod || typeof addr !== 'string') continue;
    const [mac, ip] = addr.split(' ');
    const esc = (x: string): string => x.replace(/[.]/g, '\\.');
    if (ip) subs.push([new RegExp(`(?<![\\d.])${esc(ip)}(?![\\d])`, 'g'), `<${pod} ip>`]);
    if (mac) subs.push([new RegExp(esc(mac), 'gi'), `<${pod} mac>`]);
  }
  return (text) => subs.reduce((t, [re, token]) => t.replace(re, token), text);
}

let podTokens: (s: string) => string = (s) => s;

function plain(a: Atom, labels: Map<string, string>): string {
  if (isUuid(a)) return labels.get(a[1]) ?? '<dangling>';
  return typeof a === 'string' ? maskText(podTokens(a)) : String(a);
}

function render(v: Value, labels: Map<string, string>): string {
  if (Array.isArray(v) && v[0] === 'map') {
    const pairs = (v[1] as Array<[Atom, Atom]>).map(([k, x]) => {
      const key = plain(k, labels);
      return `${key}=${VOLATILE_KEYS.has(key) ? '<varies>' : plain(x, labels)}`;
    });
    return `{${pairs.sort().join(', ')}}`;
  }
  if (Array.isArray(v) && v[0] === 'set') return `[${(v[1] as Atom[]).map((a) => plain(a, labels)).sort().join(', ')}]`;
  return plain(v as Atom, labels);
}

const isEmpty = (v: Value): boolean => v === '' || (Array.isArray(v) && (v[0] === 'set' || v[0] === 'map') && (v[1] as unknown[]).length === 0);

function label(r: Row): string {
  const name = r.cols.name;
  if (typeof name === 'string' && name !== '') return `${r.table} ${maskText(name)}`;
  const cols = IDENTITY[r.table] ?? Object.keys(r.cols).filter((c) => !c.startsWith('_')).sort();
  const parts = cols.filter((c) => r.cols[c] !== undefined && !isEmpty(r.cols[c]!) && !atoms(r.cols[c]!).some(isUuid)).map((c) => `${c}=${render(r.cols[c]!, new Map())}`);
  return `${r.table} (${parts.join(' ')})`;
}

/** The normalized text of an `ovsdb-client -f json dump` of OVN_Northbound (one JSON object per table and line). */
export function normalizeNbDump(json: string): string {
  const rows = parseDump(json);
  podTokens = podAddressTokens(rows);
  const labels = new Map(rows.map((r) => [r.uuid, label(r)]));
  const out = rows.map((r) => {
    const volatile = VOLATILE_COLUMNS[r.table] ?? new Set<string>();
    const lines = Object.keys(r.cols)
      .filter((c) => !c.startsWith('_') && !volatile.has(c) && !isEmpty(r.cols[c]!))
      .sort()
      .map((c) => `  ${c}: ${render(r.cols[c]!, labels)}`);
    return [labels.get(r.uuid)!, ...lines].join('\n');
  });
  return `${out.sort().join('\n')}\n`;
}

/** Dumps the NB database behind `remote` (e.g. unix:/path/nb.sock) as normalized text. */
export async function nbSnapshot(remote: string): Promise<string> {
  const { stdout } = await exec('ovsdb-client', ['-f', 'json', 'dump', remote, 'OVN_Northbound'], { maxBuffer: 64 << 20, timeout: 20_000 });
  return normalizeNbDump(stdout);
}
