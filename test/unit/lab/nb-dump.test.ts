// The golden NB test's normalizer (test/e2e/nb-dump.ts): what it keeps, resolves and masks decides what a refactor
// can change without the golden file noticing.
import assert from 'node:assert/strict';
import { normalizeNbDump } from '../../e2e/nb-dump.js';

const line = (caption: string, headings: string[], data: unknown[][]): string => JSON.stringify({ caption, headings, data });

describe('golden NB dump normalizer', () => {
  it('names references by row, sorts sets and maps, masks random MACs, uids and northd counters, writes pod addresses by pod, drops status', () => {
    const dump = [
      line('ACL table', ['_uuid', '_version', 'action', 'direction', 'match', 'priority', 'external_ids'], [
        [['uuid', 'a1'], ['uuid', 'v1'], 'drop', 'to-lport', 'ip', 1000, ['map', [['z', '1'], ['a', '2']]]],
      ]),
      line('Logical_Switch table', ['_uuid', '_version', 'name', 'acls', 'ports'], [
        [['uuid', 's1'], ['uuid', 'v2'], 'node1', ['uuid', 'a1'], ['set', [['uuid', 'p2'], ['uuid', 'p1']]]],
      ]),
      line('Logical_Switch_Port table', ['_uuid', '_version', 'name', 'addresses', 'external_ids', 'up'], [
        [['uuid', 'p1'], ['uuid', 'v3'], 'k8s-node1', 'f6:11:22:33:44:55 10.244.0.2', ['map', [['tessera.io/pod-uid', '07e9b59b-352e-48e5-a781-063ea01e8b18']]], true],
        [['uuid', 'p2'], ['uuid', 'v4'], 'default_web', '0a:58:0a:f4:00:03 10.244.0.3', ['map', [['tessera.io/kind', 'pod'], ['tessera.io/object', 'default/web']]], false],
      ]),
      line('NB_Global table', ['_uuid', '_version', 'nb_cfg', 'options', 'name'], [
        [['uuid', 'g'], ['uuid', 'v5'], 7, ['map', [['mac_prefix', '5e:00:00'], ['ic-route-adv', 'true']]], ''],
      ]),
      line('Address_Set table', ['_uuid', 'name', 'addresses'], [[['uuid', 'as'], 'np', ['set', ['10.244.0.30', '10.244.0.3']]]]),
      line('Connection table', ['_uuid', 'target'], [[['uuid', 'c'], 'pssl:6641']]),
    ].join('\n');
    assert.equal(normalizeNbDump(dump), [
      'ACL (direction=to-lport priority=1000 action=drop match=ip)',
      '  action: drop',
      '  direction: to-lport',
      '  external_ids: {a=2, z=1}',
      '  match: ip',
      '  priority: 1000',
      'Address_Set np',
      '  addresses: [10.244.0.30, <default/web ip>]',
      '  name: np',
      'Logical_Switch node1',
      '  acls: ACL (direction=to-lport priority=1000 action=drop match=ip)',
      '  name: node1',
      '  ports: [Logical_Switch_Port default_web, Logical_Switch_Port k8s-node1]',
      'Logical_Switch_Port default_web',
      '  addresses: <default/web mac> <default/web ip>',
      '  external_ids: {tessera.io/kind=pod, tessera.io/object=default/web}',
      '  name: default_web',
      'Logical_Switch_Port k8s-node1',
      '  addresses: <mac> 10.244.0.2',
      '  external_ids: {tessera.io/pod-uid=<uid>}',
      '  name: k8s-node1',
      'NB_Global ()',
      '  options: {ic-route-adv=true, mac_prefix=<varies>}',
      '',
    ].join('\n'));
  });
});
