// `kubectl tessera topology [--html FILE]`.
import { writeFileSync } from 'node:fs';
import { openNb } from '../db.js';
import type { Target } from '../target.js';
import { topologyHtml } from './html.js';
import { buildTopology, formatTopology, type Topology } from './model.js';

export async function readTopology(t: Target): Promise<Topology> {
  const nb = await openNb(t.nb);
  try {
    const [routers, lrps, switches, lsps, nats] = await Promise.all([nb.rows('Logical_Router'), nb.rows('Logical_Router_Port'), nb.rows('Logical_Switch'), nb.rows('Logical_Switch_Port'), nb.rows('NAT')]);
    return buildTopology({ routers, lrps, switches, lsps, nats });
  } finally {
    nb.close();
  }
}

export async function topologyCommand(t: Target, o: { html?: string }): Promise<number> {
  const topo = await readTopology(t);
  if (o.html) {
    writeFileSync(o.html, topologyHtml(topo, `Tessera topology: ${t.describe}`));
    process.stdout.write(`wrote ${o.html}\n`);
  } else {
    process.stdout.write(formatTopology(topo) + '\n');
  }
  return 0;
}
