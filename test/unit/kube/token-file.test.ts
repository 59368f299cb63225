import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TokenFile } from '../../../lib/kube/token-file.js';

describe('lib/kube TokenFile', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-tokenfile-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const swap = (file: string, text: string) => {
    fs.writeFileSync(`${file}.new`, text);
    fs.renameSync(`${file}.new`, file);
  };

  it('re-reads a rotated file once its stat interval passed, and at once after invalidate()', () => {
    const file = path.join(tmp, 'a');
    fs.writeFileSync(file, 'one\n');
    let now = 1_000_000;
    const t = new TokenFile(file, () => now);
    assert.equal(t.current(), 'one', 'trailing newline trimmed');
    swap(file, 'two');
    assert.equal(t.current(), 'one', 'stat at most once a second');
    now += 1500;
    assert.equal(t.current(), 'two', 'a new inode is a new token');
    swap(file, 'three');
    t.invalidate();
    assert.equal(t.current(), 'three');
  });

  it('keeps the last good token while the file is briefly missing or empty, and fails without one', () => {
    const file = path.join(tmp, 'b');
    fs.writeFileSync(file, 'good');
    const t = new TokenFile(file);
    assert.equal(t.current(), 'good');
    fs.rmSync(file);
    t.invalidate();
    assert.equal(t.current(), 'good');
    fs.writeFileSync(file, '');
    t.invalidate();
    assert.equal(t.current(), 'good');
    assert.throws(() => new TokenFile(path.join(tmp, 'none')).current(), /token file .*none: ENOENT/);
  });
});
