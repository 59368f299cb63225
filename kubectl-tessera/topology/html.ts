// A self-contained HTML page of the topology: an inline SVG (routers on top, switches below, a line per router
// port), inline CSS, no script, no external font or image.
import type { Topology } from './model.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const BOX = { w: 170, h: 58, gap: 24 };
const ROW = { router: 40, switch: 230 };

function box(x: number, y: number, cls: string, title: string, lines: string[], id: string): string {
  const text = [title, ...lines].map((l, i) => `<text x="${x + BOX.w / 2}" y="${y + 20 + i * 15}" class="${i ? 'sub' : 'name'}">${esc(l)}</text>`).join('');
  return `<g class="${cls}" id="${esc(id)}"><rect x="${x}" y="${y}" width="${BOX.w}" height="${BOX.h}" rx="8"/>${text}</g>`;
}

export function topologySvg(t: Topology): string {
  const n = Math.max(t.routers.length, t.switches.length, 1);
  const width = n * (BOX.w + BOX.gap) + BOX.gap;
  const xOf = (i: number, count: number): number => BOX.gap + i * (BOX.w + BOX.gap) + ((n - count) * (BOX.w + BOX.gap)) / 2;
  const rx = new Map(t.routers.map((r, i) => [r.name, xOf(i, t.routers.length)]));
  const sx = new Map(t.switches.map((s, i) => [s.name, xOf(i, t.switches.length)]));
  const lines = t.routers.flatMap((r) => r.ports.filter((p) => p.switch !== undefined && sx.has(p.switch)).map((p) =>
    `<line x1="${(rx.get(r.name) as number) + BOX.w / 2}" y1="${ROW.router + BOX.h}" x2="${(sx.get(p.switch as string) as number) + BOX.w / 2}" y2="${ROW.switch}"><title>${esc(`${p.name} ${p.networks.join(', ')}`)}</title></line>`));
  const routers = t.routers.map((r) => box(rx.get(r.name) as number, ROW.router, r.kind === 'gateway' ? 'gateway' : 'router', r.name,
    [r.kind === 'gateway' ? `gateway, chassis ${r.chassis}` : 'router', ...(r.snat[0] ? [`snat ${r.snat[0].split(' -> ')[1]}`] : [])], `router-${r.name}`));
  const switches = t.switches.map((s) => box(sx.get(s.name) as number, ROW.switch, `switch ${s.kind}`, s.name,
    [`${s.kind}${s.subnet ? ` ${s.subnet}` : ''}`, `${s.pods} pod${s.pods === 1 ? '' : 's'}`], `switch-${s.name}`));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${ROW.switch + BOX.h + 40}" viewBox="0 0 ${width} ${ROW.switch + BOX.h + 40}" role="img" aria-label="Tessera logical topology">` +
    `<g class="links">${lines.join('')}</g>${routers.join('')}${switches.join('')}</svg>`;
}

const CSS = `body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}
svg text{text-anchor:middle;font-family:sans-serif}svg .name{font-size:13px;font-weight:bold}svg .sub{font-size:11px}
svg rect{stroke:#333;stroke-width:1.5}svg .router rect{fill:#cfe3ff}svg .gateway rect{fill:#ffe3b3}svg .switch rect{fill:#d8f5d0}
svg .transit rect{fill:#f3d0f5}svg .external rect{fill:#eee}svg .links line{stroke:#666;stroke-width:2}
table{border-collapse:collapse;margin-top:16px}td,th{border:1px solid #bbb;padding:3px 8px;font-size:13px;text-align:left}`;

export function topologyHtml(t: Topology, title: string): string {
  const rows = t.switches.map((s) => `<tr><td>${esc(s.name)}</td><td>${esc(s.kind)}</td><td>${esc(s.subnet ?? '')}</td><td>${s.pods}</td><td>${esc(s.routers.join(', '))}</td></tr>`).join('');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head><body>` +
    `<h1>${esc(title)}</h1>${topologySvg(t)}` +
    `<table><thead><tr><th>switch</th><th>kind</th><th>subnet</th><th>pods</th><th>routers</th></tr></thead><tbody>${rows}</tbody></table></body></html>\n`;
}
