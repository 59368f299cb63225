// Compile-time checks (tsc) plus a run-time check that the public API composes as documented.
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/log.js';
import { op, ref, type ClientOptions, type ChangeEvent } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { SB_MODEL } from '../../../lib/ovsdb/models/sb.js';
import { ICNB_MODEL } from '../../../lib/ovsdb/models/icnb.js';
import { ICSB_MODEL } from '../../../lib/ovsdb/models/icsb.js';
import { VSWITCH_MODEL, type Interface } from '../../../lib/ovsdb/models/vswitch.js';

describe('ovsdb public API types', () => {
  it('accepts a winston logger and typed builders for every model', () => {
    const opts: ClientOptions = { remotes: 'unix:/x', logger: createLogger('test', { level: 'error' }) };
    assert.equal(opts.remotes, 'unix:/x');
    const vs = op(VSWITCH_MODEL);
    const ins = vs.insert('Interface', { name: 'veth1', external_ids: { 'iface-id': 'default_web-1' } }, 'i');
    assert.equal(ins.wire.table, 'Interface');
    const port = vs.insert('Port', { name: 'veth1', interfaces: [ref('i')] });
    assert.deepEqual((port.wire.row as Record<string, unknown>).interfaces, ['set', [['named-uuid', 'i']]]);
    assert.equal(op(SB_MODEL).select('Chassis', [['name', '==', 'n1']]).wire.table, 'Chassis');
    assert.equal(op(ICNB_MODEL).select('Transit_Switch', []).wire.table, 'Transit_Switch');
    assert.equal(op(ICSB_MODEL).select('Availability_Zone', []).wire.table, 'Availability_Zone');
    const acl = op(NB_MODEL).insert('ACL', { priority: 1001, direction: 'to-lport', match: 'ip4', action: 'allow-related' });
    assert.equal((acl.wire.row as Record<string, unknown>).action, 'allow-related');
  });

  it('narrows change events by table', () => {
    const ev = { table: 'Logical_Switch_Port', kind: 'insert', row: { _uuid: 'u', name: 'p', addresses: [], external_ids: {}, mirror_rules: [], options: {}, port_security: [], type: '' } } as ChangeEvent<NBTables>;
    if (ev.table === 'Logical_Switch_Port') assert.equal(ev.row.name, 'p');
    const iface: Pick<Interface, 'name' | 'ofport'> = { name: 'veth1' };
    assert.equal(iface.ofport, undefined, 'optional columns are optional properties');
  });
});
