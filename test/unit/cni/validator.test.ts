import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { generateValidatorSource, VALIDATOR_DTS, VALIDATOR_DTS_PATH, VALIDATOR_PATH } from '../../../tools/gen-cni-validator.js';

describe('cni: precompiled config validator', () => {
  it('the committed module matches a fresh generation from cni/config.schema.json', () => {
    assert.equal(readFileSync(VALIDATOR_PATH, 'utf8'), generateValidatorSource(), 'stale: run node_modules/.bin/tsx tools/gen-cni-validator.ts');
    assert.equal(readFileSync(VALIDATOR_DTS_PATH, 'utf8'), VALIDATOR_DTS);
  });

  it('needs no ajv at run time (standalone, no require of ajv runtime helpers)', () => {
    const src = readFileSync(VALIDATOR_PATH, 'utf8');
    assert.doesNotMatch(src, /\brequire\(|from ["']ajv/);
  });
});
