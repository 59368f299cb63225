import { strict as assert } from 'node:assert';
import { parseCli } from '../../../kubectl-tessera/args.js';

describe('kubectl-tessera command line', () => {
  it('passes everything after nbctl/sbctl/vsctl through, except leading global flags', () => {
    const p = parseCli(['--lab', 'x.json', 'nbctl', '--columns=name', 'list', 'ACL']);
    assert.equal(p.command, 'nbctl');
    assert.equal(p.values.lab, 'x.json');
    assert.deepEqual(p.args, ['--columns=name', 'list', 'ACL']);
    const v = parseCli(['vsctl', '--lab', 'y.json', 'node1', '--', 'list-br']);
    assert.equal(v.values.lab, 'y.json');
    assert.deepEqual(v.args, ['node1', '--', 'list-br']);
  });

  it('a global flag\'s value is not taken for the command', () => {
    const p = parseCli(['-n', 'nbctl', 'trace', 'client', 'web:80', '--icmp']);
    assert.equal(p.command, 'trace');
    assert.equal(p.values.namespace, 'nbctl');
    assert.deepEqual(p.args, ['client', 'web:80']);
    assert.equal(p.values.icmp, true);
  });

  it('rejects unknown flags', () => {
    assert.throws(() => parseCli(['diagnose', '--no-such-flag']), /no-such-flag/);
  });
});
