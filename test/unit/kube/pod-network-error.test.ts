// The tessera.io/pod-network-error annotation: what the agent will quote, and what the watcher writes.
import assert from 'node:assert/strict';
import { POD_NETWORK_ERROR_ANNOTATION as ERR, POD_NETWORK_ERROR_MAX, podNetworkError, shortPodNetworkError } from '../../../lib/kube/annotations.js';

describe('pod-network-error annotation', () => {
  it('is quoted only when present, short and free of control characters', () => {
    assert.equal(podNetworkError(undefined), undefined);
    assert.equal(podNetworkError({}), undefined);
    assert.equal(podNetworkError({ [ERR]: '' }), undefined);
    assert.equal(podNetworkError({ [ERR]: 'AddressExhausted: subnet 10.244.1.0/24 is full' }), 'AddressExhausted: subnet 10.244.1.0/24 is full');
    assert.equal(podNetworkError({ [ERR]: 'a\nb' }), undefined);
    assert.equal(podNetworkError({ [ERR]: 'a\u001b[31mred' }), undefined);
    assert.equal(podNetworkError({ [ERR]: 'a\u0085b' }), undefined);
    assert.equal(podNetworkError({ [ERR]: 'x'.repeat(POD_NETWORK_ERROR_MAX) })?.length, POD_NETWORK_ERROR_MAX);
    assert.equal(podNetworkError({ [ERR]: 'x'.repeat(POD_NETWORK_ERROR_MAX + 1) }), undefined);
  });

  it('is written flat and cut to the length the agent accepts', () => {
    assert.equal(shortPodNetworkError('one\ntwo\r\n three'), 'one two  three');
    const long = shortPodNetworkError('y'.repeat(1000));
    assert.equal(long.length, POD_NETWORK_ERROR_MAX);
    assert.ok(long.endsWith('…'));
    assert.equal(podNetworkError({ [ERR]: long }), long);
  });
});
