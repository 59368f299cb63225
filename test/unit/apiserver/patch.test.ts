import assert from 'node:assert/strict';
import { jsonPatch, mergePatch, parseJsonPatch, PatchError, strategicMergePatch, type Json } from '../../../kube-double/patch.js';

describe('merge patch (RFC 7386)', () => {
  it('merges objects, deletes with null, replaces lists', () => {
    const target: Json = { a: 'b', c: { d: 'e', f: 'g' }, l: [1, 2, 3] };
    assert.deepEqual(mergePatch(target, { a: 'z', c: { f: null, h: 1 }, l: [9] }), { a: 'z', c: { d: 'e', h: 1 }, l: [9] });
    assert.deepEqual(target, { a: 'b', c: { d: 'e', f: 'g' }, l: [1, 2, 3] }, 'target untouched');
  });
  it('passes the RFC 7386 appendix examples', () => {
    const cases: [Json, Json, Json][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [['a', 'b'], ['c', 'd'], ['c', 'd']],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [t, p, r] of cases) assert.deepEqual(mergePatch(t, p), r, JSON.stringify([t, p]));
  });
});

describe('strategic merge patch', () => {
  const pod: Json = {
    metadata: { name: 'p', finalizers: ['a'], labels: { x: '1' } },
    spec: {
      containers: [
        { name: 'app', image: 'app:1', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '1' }] },
        { name: 'side', image: 'side:1' },
      ],
      tolerations: [{ key: 't1' }],
    },
    status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] },
  };

  it('merges containers by name and their ports by containerPort', () => {
    const out = strategicMergePatch(pod, { spec: { containers: [{ name: 'app', image: 'app:2', ports: [{ containerPort: 443 }] }, { name: 'new', image: 'n' }] } }) as { spec: { containers: Json[] } };
    assert.deepEqual(out.spec.containers, [
      { name: 'app', image: 'app:2', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }], env: [{ name: 'A', value: '1' }] },
      { name: 'side', image: 'side:1' },
      { name: 'new', image: 'n' },
    ]);
  });
  it('merges conditions by type', () => {
    const out = strategicMergePatch(pod, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }) as { status: Json };
    assert.deepEqual(out.status, { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] });
  });
  it('deletes list elements with $patch: delete', () => {
    const out = strategicMergePatch(pod, { spec: { containers: [{ name: 'side', $patch: 'delete' }] } }) as { spec: { containers: { name: string }[] } };
    assert.deepEqual(out.spec.containers.map((c) => c.name), ['app']);
  });
  it('replaces a list or map with $patch: replace', () => {
    const out = strategicMergePatch(pod, { spec: { containers: [{ name: 'only', image: 'o' }, { $patch: 'replace' }] }, metadata: { labels: { $patch: 'replace', y: '2' } } }) as { spec: { containers: Json[] }; metadata: { labels: Json } };
    assert.deepEqual(out.spec.containers, [{ name: 'only', image: 'o' }]);
    assert.deepEqual(out.metadata.labels, { y: '2' });
  });
  it('treats finalizers as a set and supports $deleteFromPrimitiveList', () => {
    const add = strategicMergePatch(pod, { metadata: { finalizers: ['b', 'a'] } }) as { metadata: { finalizers: string[] } };
    assert.deepEqual(add.metadata.finalizers, ['a', 'b']);
    const del = strategicMergePatch(add as Json, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }) as { metadata: { finalizers: string[] } };
    assert.deepEqual(del.metadata.finalizers, ['b']);
  });
  it('replaces lists without a merge key, and deletes keys with null', () => {
    const out = strategicMergePatch(pod, { spec: { tolerations: [{ key: 't2' }] }, metadata: { labels: { x: null } } }) as { spec: { tolerations: Json }; metadata: { labels: Json } };
    assert.deepEqual(out.spec.tolerations, [{ key: 't2' }]);
    assert.deepEqual(out.metadata.labels, {});
  });
  it('drops $setElementOrder directives and rejects unknown ones', () => {
    const out = strategicMergePatch(pod, { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }] } }) as { spec: Json };
    assert.equal('$setElementOrder/containers' in (out.spec as object), false);
    assert.throws(() => strategicMergePatch(pod, { spec: { $patch: 'explode' } }), PatchError);
    assert.throws(() => strategicMergePatch(pod, { spec: { containers: [{ image: 'no-name' }] } }), /merge key "name"/);
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc: Json = { metadata: { annotations: { 'a/b': '1' } }, list: [1, 2, 3] };
  const apply = (ops: Json) => jsonPatch(doc, parseJsonPatch(ops));
  it('applies add, remove, replace, move, copy and test', () => {
    assert.deepEqual(
      apply([
        { op: 'test', path: '/metadata/annotations/a~1b', value: '1' },
        { op: 'add', path: '/metadata/annotations/c', value: '2' },
        { op: 'add', path: '/list/1', value: 9 },
        { op: 'add', path: '/list/-', value: 4 },
        { op: 'remove', path: '/list/0' },
        { op: 'replace', path: '/metadata/annotations/a~1b', value: 'x' },
        { op: 'copy', from: '/list/0', path: '/first' },
        { op: 'move', from: '/metadata/annotations/c', path: '/moved' },
      ]),
      { metadata: { annotations: { 'a/b': 'x' } }, list: [9, 2, 3, 4], first: 9, moved: '2' },
    );
    assert.deepEqual(doc, { metadata: { annotations: { 'a/b': '1' } }, list: [1, 2, 3] }, 'input untouched');
  });
  it('fails a test op, a missing path or an index out of range with 422', () => {
    for (const ops of [[{ op: 'test', path: '/list/0', value: 2 }], [{ op: 'remove', path: '/nope' }], [{ op: 'replace', path: '/nope', value: 1 }], [{ op: 'add', path: '/list/5', value: 1 }], [{ op: 'add', path: '/a/b', value: 1 }]]) {
      assert.throws(() => apply(ops), (e: unknown) => e instanceof PatchError && e.code === 422, JSON.stringify(ops));
    }
  });
  it('rejects malformed documents with 400', () => {
    for (const bad of [{ op: 'add' }, [{ op: 'frobnicate', path: '/a' }], [{ op: 'add', path: '/a' }], [{ op: 'move', path: '/a' }], [{ op: 'add', path: 'a', value: 1 }]]) {
      assert.throws(() => apply(bad as Json), (e: unknown) => e instanceof PatchError && e.code === 400, JSON.stringify(bad));
    }
  });
  it('compares deeply in test', () => {
    assert.doesNotThrow(() => apply([{ op: 'test', path: '/metadata', value: { annotations: { 'a/b': '1' } } }]));
    assert.throws(() => apply([{ op: 'test', path: '/list', value: [1, 2] }]), PatchError);
  });
});
