import assert from 'node:assert/strict';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector, SelectorError } from '../../../kube-double/selectors.js';

const sel = (s: string, labels: Record<string, string>) => matchLabels(parseLabelSelector(s), labels);

describe('label selectors', () => {
  it('parses every operator', () => {
    assert.deepEqual(parseLabelSelector('a=1, b==2,c!=3,d in (x, y),e notin (z),f,!g,h>5,i<7'), [
      { key: 'a', op: '=', values: ['1'] },
      { key: 'b', op: '=', values: ['2'] },
      { key: 'c', op: '!=', values: ['3'] },
      { key: 'd', op: 'in', values: ['x', 'y'] },
      { key: 'e', op: 'notin', values: ['z'] },
      { key: 'f', op: 'exists', values: [] },
      { key: 'g', op: '!exists', values: [] },
      { key: 'h', op: 'gt', values: ['5'] },
      { key: 'i', op: 'lt', values: ['7'] },
    ]);
  });
  it('accepts prefixed keys and empty values', () => {
    assert.deepEqual(parseLabelSelector('kubernetes.io/service-name=web,tier='), [
      { key: 'kubernetes.io/service-name', op: '=', values: ['web'] },
      { key: 'tier', op: '=', values: [''] },
    ]);
  });
  it('matches with Kubernetes semantics', () => {
    const l = { app: 'web', tier: 'front', n: '10' };
    assert.equal(sel('app=web', l), true);
    assert.equal(sel('app==db', l), false);
    assert.equal(sel('app!=db', l), true);
    assert.equal(sel('missing!=x', l), true, '!= matches when the key is absent');
    assert.equal(sel('missing notin (x)', l), true, 'notin matches when the key is absent');
    assert.equal(sel('missing in (x)', l), false);
    assert.equal(sel('tier in (back,front)', l), true);
    assert.equal(sel('tier notin (back,front)', l), false);
    assert.equal(sel('app', l), true);
    assert.equal(sel('!app', l), false);
    assert.equal(sel('!other', l), true);
    assert.equal(sel('n>5,n<11', l), true);
    assert.equal(sel('n>10', l), false);
    assert.equal(sel('', l), true, 'empty selector selects everything');
    assert.equal(sel('app=web,tier=back', l), false, 'requirements are ANDed');
  });
  it('rejects malformed selectors with a message naming the selector', () => {
    for (const bad of ['a in x', 'a in (x', '=x', 'a=b=c', 'a b', '!', 'a,,b', 'bad key!=x', 'a=not valid', 'a>x', `a=${'v'.repeat(64)}`, '-a=b']) {
      assert.throws(() => parseLabelSelector(bad), (e: unknown) => e instanceof SelectorError && e.message.includes('label selector'), bad);
    }
  });
});

describe('field selectors', () => {
  const get = (f: string) => ({ 'metadata.name': 'p1', 'spec.nodeName': 'node1', 'status.phase': 'Running' })[f] ?? '';
  it('parses =, == and != with escapes', () => {
    assert.deepEqual(parseFieldSelector('spec.nodeName=node1,status.phase!=Failed,metadata.name==a\\,b'), [
      { field: 'spec.nodeName', op: '=', value: 'node1' },
      { field: 'status.phase', op: '!=', value: 'Failed' },
      { field: 'metadata.name', op: '=', value: 'a,b' },
    ]);
    assert.deepEqual(parseFieldSelector(''), []);
  });
  it('matches', () => {
    assert.equal(matchFields(parseFieldSelector('spec.nodeName=node1'), get), true);
    assert.equal(matchFields(parseFieldSelector('spec.nodeName=node2'), get), false);
    assert.equal(matchFields(parseFieldSelector('spec.nodeName!=node2,status.phase=Running'), get), true);
    assert.equal(matchFields(parseFieldSelector('spec.schedulerName='), get), true, 'an absent field is the empty string');
  });
  it('rejects a term without operator', () => {
    assert.throws(() => parseFieldSelector('spec.nodeName'), SelectorError);
    assert.throws(() => parseFieldSelector('=x'), SelectorError);
  });
});
