// Tears down a gateway lab left behind by KEEP_TGW=1: `tsx test/integration/gateway/down.ts <dir>`.
import { rmSync } from 'node:fs';
import { destroyLab } from './cluster.js';

const dir = process.argv[2];
await destroyLab(dir);
if (dir) rmSync(dir, { recursive: true, force: true });
