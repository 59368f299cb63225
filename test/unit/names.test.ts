import assert from 'node:assert/strict';
import { macFromIPv4, podPort } from '../../lib/ovn/names.js';

describe('names', () => {
  it('derives the pod MAC from its IPv4 address', () => {
    assert.equal(macFromIPv4('10.244.1.5'), '0a:58:0a:f4:01:05');
  });
  it('rejects a malformed address', () => {
    assert.throws(() => macFromIPv4('10.244.1'), /not an IPv4 address/);
    assert.throws(() => macFromIPv4('10.244.1.256'), /not an IPv4 address/);
  });
  it('names pod ports <namespace>_<pod>', () => {
    assert.equal(podPort('default', 'web-1'), 'default_web-1');
  });
});
