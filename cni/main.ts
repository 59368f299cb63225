// tessera-cni entry point (placeholder until the CNI issue lands): answers VERSION and --version.
import { VERSION } from '../lib/version.js';

const SUPPORTED = ['0.4.0', '1.0.0', '1.1.0'];
if (process.argv.includes('--version')) {
  process.stdout.write(`tessera-cni ${VERSION}\n`);
} else if (process.env.CNI_COMMAND === 'VERSION') {
  process.stdout.write(JSON.stringify({ cniVersion: '1.1.0', supportedVersions: SUPPORTED }) + '\n');
} else {
  process.stdout.write(JSON.stringify({ cniVersion: '1.1.0', code: 4, msg: 'not implemented yet' }) + '\n');
  process.exitCode = 1;
}
