// Removes what a TAG_KEEP=1 agent integration run left behind: tsx cleanup.ts DIR ID
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { stopDaemons } from '../../../lab/daemon.js';
import { delNetns, listNetns } from '../../../lab/netns.js';

const [dir, id] = process.argv.slice(2);
if (!dir?.startsWith('/tmp/tag-agent-') || !/^[0-9a-f]{4}$/.test(id ?? '')) throw new Error('usage: cleanup.ts /tmp/tag-agent-XXXX ID');
await stopDaemons(join(dir, 'agent'));
await stopDaemons(dir, ['ovn-controller', 'apiserver']);
for (const ns of await listNetns()) if (ns.startsWith(`tag-${id}-`)) await delNetns(ns);
rmSync(dir, { recursive: true, force: true });
