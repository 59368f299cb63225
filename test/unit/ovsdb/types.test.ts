// The public API's types and builders: what tsc must refuse (each @ts-expect-error fails the typecheck if the types
// grow permissive) and what the builders refuse or produce at run time, for every model.
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/log.js';
import { op, ref, type ClientOptions, type ChangeEvent } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { SB_MODEL } from '../../../lib/ovsdb/models/sb.js';
import { ICNB_MODEL } from '../../../lib/ovsdb/models/icnb.js';
import { ICSB_MODEL } from '../../../lib/ovsdb/models/icsb.js';
import { VSWITCH_MODEL, type Interface } from '../../../lib/ovsdb/models/vswitch.js';

describe('ovsdb public API types', () => {
  it('takes a winston logger as the client logger (a compile-time check)', () => {
    const opts: ClientOptions = { remotes: 'unix:/x', logger: createLogger('test', { level: 'error' }) };
    // @ts-expect-error a logger needs the four level methods
    const bad: ClientOptions = { remotes: 'unix:/x', logger: { info: () => undefined } };
    void [opts, bad];
  });

  it('builds typed operations in the wire form for every model', () => {
    const vs = op(VSWITCH_MODEL);
    const ins = vs.insert('Interface', { name: 'veth1', external_ids: { 'iface-id': 'default_web-1' } }, 'i');
    assert.deepEqual(ins.wire, { op: 'insert', table: 'Interface', row: { name: 'veth1', external_ids: ['map', [['iface-id', 'default_web-1']]] }, 'uuid-name': 'i' });
    const port = vs.insert('Port', { name: 'veth1', interfaces: [ref('i')] });
    assert.deepEqual((port.wire.row as Record<string, unknown>).interfaces, ['set', [['named-uuid', 'i']]]);
    assert.deepEqual(op(SB_MODEL).select('Chassis', [['name', '==', 'n1']]).wire, { op: 'select', table: 'Chassis', where: [['name', '==', 'n1']] });
    assert.deepEqual(op(ICNB_MODEL).select('Transit_Switch', [], ['name']).wire.columns, ['_uuid', 'name']);
    assert.deepEqual(op(ICSB_MODEL).select('Availability_Zone', []).wire.where, []);
    const acl = op(NB_MODEL).insert('ACL', { priority: 1001, direction: 'to-lport', match: 'ip4', action: 'allow-related' });
    assert.deepEqual(acl.wire.row, { priority: 1001, direction: 'to-lport', match: 'ip4', action: 'allow-related' });
  });

  it('refuses unknown tables, unknown columns and wrong column types, at compile time and at run time', () => {
    const vs = op(VSWITCH_MODEL);
    // @ts-expect-error no such table
    assert.throws(() => vs.insert('No_Such_Table', {}), /no table "No_Such_Table"/);
    // @ts-expect-error name is a string column
    assert.throws(() => vs.insert('Interface', { name: 7 }), /Interface\.name: expected string, got 7/);
    // @ts-expect-error Interface has no column "nosuch"
    assert.throws(() => vs.insert('Interface', { nosuch: 'x' }), /table Interface has no column "nosuch"/);
    // @ts-expect-error "~=" is not an RFC 7047 condition function
    assert.throws(() => vs.select('Interface', [['name', '~=', 'x']]), /unknown condition function "~="/);
  });

  it('narrows change events by table and keeps optional columns optional (compile-time checks)', () => {
    const ev = { table: 'Logical_Switch_Port', kind: 'insert', row: { _uuid: 'u', name: 'p', addresses: [], external_ids: {}, mirror_rules: [], options: {}, port_security: [], type: '' } } as ChangeEvent<NBTables>;
    if (ev.table === 'Logical_Switch_Port') {
      const name: string = ev.row.name;
      // @ts-expect-error a Logical_Switch_Port row has no "ports" column (that is Logical_Switch's)
      void ev.row.ports;
      void name;
    }
    const iface: Pick<Interface, 'name' | 'ofport'> = { name: 'veth1' };
    // @ts-expect-error name is a required column
    const noName: Pick<Interface, 'name' | 'ofport'> = { ofport: 1 };
    void [iface, noName];
  });
});
