// NB size of the watcher's NetworkPolicy rows (ACL, Port_Group, Address_Set: row counts and bytes of the
// rows as OVSDB JSON, read back with a select), and the reference: what a naive translation with one ACL
// per peer pod (no address sets; the same port group of selected pods) would write, derived from the same
// rows by expanding each `$address_set` in an ACL's match into one ACL per address.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

type Wire = unknown;
type Row = Record<string, Wire>;

export interface SizeFigures {
  rows: { acl: number; portGroup: number; addressSet: number };
  bytes: { acl: number; portGroup: number; addressSet: number; total: number };
}

async function select(remote: string, table: string): Promise<Row[]> {
  const q = JSON.stringify(['OVN_Northbound', { op: 'select', table, where: [] }]);
  const { stdout } = await execFileP('ovsdb-client', ['transact', remote, q], { maxBuffer: 1 << 30, timeout: 120000 });
  return ((JSON.parse(stdout) as [{ rows: Row[] }])[0]).rows;
}

/** An OVSDB map column (["map", [[k, v], ...]]) as an object. */
function mapOf(v: Wire): Record<string, string> {
  const pairs = Array.isArray(v) && v[0] === 'map' ? (v[1] as [string, string][]) : [];
  return Object.fromEntries(pairs);
}

/** An OVSDB set column (["set", [...]] or one bare value) as an array. */
function setOf(v: Wire): Wire[] {
  if (Array.isArray(v) && v[0] === 'set') return v[1] as Wire[];
  return v === undefined ? [] : [v];
}

const bytesOf = (r: Row): number => {
  const { _version: _v, ...rest } = r;
  return Buffer.byteLength(JSON.stringify(rest));
};
const isPolicyRow = (r: Row): boolean => mapOf(r.external_ids)['tessera.io/kind'] === 'network-policy';
/** One more UUID reference in a set column: `,["uuid","<36 chars>"]`. */
const UUID_REF_BYTES = 46;

export async function policyNbSize(remote: string): Promise<{ tessera: SizeFigures; naive: SizeFigures }> {
  const [acls, pgs, sets] = await Promise.all([select(remote, 'ACL'), select(remote, 'Port_Group'), select(remote, 'Address_Set')]);
  const ourAcls = acls.filter(isPolicyRow);
  const ourPgs = pgs.filter(isPolicyRow);
  const ourSets = sets.filter(isPolicyRow);
  const setAddrs = new Map(ourSets.map((s) => [String(s.name), setOf(s.addresses).map(String)]));
  const sum = (rs: Row[]) => rs.reduce((n, r) => n + bytesOf(r), 0);
  const tessera: SizeFigures = {
    rows: { acl: ourAcls.length, portGroup: ourPgs.length, addressSet: ourSets.length },
    bytes: { acl: sum(ourAcls), portGroup: sum(ourPgs), addressSet: sum(ourSets), total: 0 },
  };
  tessera.bytes.total = tessera.bytes.acl + tessera.bytes.portGroup + tessera.bytes.addressSet;

  let naiveAcls = 0;
  let naiveAclBytes = 0;
  for (const a of ourAcls) {
    const match = String(a.match);
    const ref = /\$(tessera_np_[0-9a-f]+)/.exec(match);
    if (!ref) {
      naiveAcls++;
      naiveAclBytes += bytesOf(a);
      continue;
    }
    for (const ip of setAddrs.get(ref[1]) ?? []) {
      naiveAcls++;
      naiveAclBytes += bytesOf({ ...a, match: match.replace(ref[0], ip) });
    }
  }
  const naive: SizeFigures = {
    rows: { acl: naiveAcls, portGroup: ourPgs.length, addressSet: 0 },
    bytes: { acl: naiveAclBytes, portGroup: tessera.bytes.portGroup + (naiveAcls - ourAcls.length) * UUID_REF_BYTES, addressSet: 0, total: 0 },
  };
  naive.bytes.total = naive.bytes.acl + naive.bytes.portGroup;
  return { tessera, naive };
}
