import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readLabFile, writeLabFile, type LabFile } from '../../../lab/lab-file.js';
import { writeTokenFile } from '../../../lab/kube.js';

describe('lab files that hold the API token', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-labfile-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('lab.json is written 0600, also over an older world-readable file and a stale .tmp', () => {
    const file = path.join(tmp, 'lab.json');
    fs.writeFileSync(file, '{}', { mode: 0o644 });
    fs.writeFileSync(`${file}.tmp`, '', { mode: 0o644 });
    fs.chmodSync(`${file}.tmp`, 0o644);
    const lab = { prefix: 'x-', apiserver: { url: 'http://a:1', token: 't', tokenFile: '/f', unixSocket: '/s' } } as unknown as LabFile;
    writeLabFile(file, lab);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(readLabFile(file).apiserver?.token, 't');
  });

  it('the token file is 0600 and replaced whole', () => {
    const file = path.join(tmp, 'apiserver.token');
    writeTokenFile(file, 'one');
    writeTokenFile(file, 'two');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(file, 'utf8'), 'two');
  });
});
