// The lab step that starts the lab kubelet (kubelet.ts) once the agents run: pods of the Tessera image scheduled to
// lab nodes then come up as on a real node, and the API server's pods/exec reaches them through its socket.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { imageRef } from '../lib/image.js';
import { alive, spawnDaemon } from './daemon.js';
import { need, type LabContext, type LabStep } from './lab-context.js';
import type { KubeletConfig } from './kubelet-config.js';
import { REPO_ROOT } from './paths.js';
import { GiveUp, waitFor } from './wait.js';

/** Under the lab's run dir; the API server (step-infra.ts) is told this path at its start. */
export const KUBELET_SOCKET = 'kubelet.sock';

/** The version `make build` stamps into dist/bin (package.json's), so the kubelet's image is the one `make image` builds. */
const builtVersion = (): string => (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export const kubeletStep: LabStep = {
  name: 'lab kubelet',
  async run(c: LabContext): Promise<void> {
    const api = need(c.api, 'the Kubernetes API');
    const dir = join(c.runDir, 'kubelet');
    mkdirSync(dir, { recursive: true });
    const cfg: KubeletConfig = {
      apiSocket: api.unixSocket, tokenFile: api.tokenFile, podNetnsPrefix: c.names.pod({ namespace: '', name: '' }).slice(0, -1),
      binDir: c.binDir, image: imageRef(builtVersion()), socket: join(c.runDir, KUBELET_SOCKET), dir,
      nodes: c.nodes.map((n) => ({ name: n.name, netns: n.netns, ip: n.ip, cni: need(c.cniConf.get(n.name), `the CNI config of ${n.name}`) })),
    };
    const file = join(dir, 'kubelet.json');
    writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
    c.log(`lab kubelet: pods of ${cfg.image} on ${cfg.nodes.map((n) => n.name).join(', ')}; exec at ${cfg.socket}`);
    const pid = spawnDaemon({ dir, name: 'kubelet', cwd: REPO_ROOT, cmd: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, 'lab', 'kubelet.ts'), '--config', file] });
    await waitFor('the lab kubelet to listen', () => {
      if (!alive(pid)) throw new GiveUp(`the lab kubelet exited: ${readFileSync(join(dir, 'kubelet.log'), 'utf8').trim().split('\n').slice(-3).join(' | ')}`);
      return existsSync(cfg.socket);
    }, 20_000);
  },
};
