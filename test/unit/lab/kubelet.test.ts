// The lab kubelet's logic: which pods it runs, how a container command resolves in the image (dist/bin), the exec
// Status it sends, the EndpointSlice it writes, and the WebSocket framing its exec speaks (checked against ws, the
// client client-node uses, in websocket round trip below).
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'isomorphic-ws';
import { desiredSlice } from '../../../lab/kubelet-endpoints.js';
import { exitStatus } from '../../../lab/kubelet-exec.js';
import { imageRepository, isOurs, resolveCommand } from '../../../lab/kubelet-pods.js';
import { frame, parseFrames, upgrade } from '../../../lab/websocket.js';

describe('lab kubelet', () => {
  it('runs the pods of the Tessera image on its nodes and leaves every other pod alone', () => {
    const pod = (image: string, nodeName = 'node1') => ({ metadata: { name: 'p' }, spec: { nodeName, containers: [{ name: 'c', image }] } });
    assert.equal(isOurs(pod('tessera/tessera:0.3.0'), ['node1']), true);
    assert.equal(isOurs(pod('docker.io/tessera/tessera:9'), ['node1']), true, 'another tag is ours too (it gets ErrImagePull)');
    assert.equal(isOurs(pod('tessera/tessera:0.3.0', 'other'), ['node1']), false);
    for (const img of ['tessera-lab/pod-server', 'x', 'registry.k8s.io/pause:3.9', 'tessera/tessera-other:1']) assert.equal(isOurs(pod(img), ['node1']), false, img);
    assert.equal(imageRepository('localhost:5000/tessera/tessera@sha256:ab'), 'localhost:5000/tessera/tessera');
  });

  it('resolves a command to the image\'s executables only', () => {
    assert.deepEqual(resolveCommand(['tessera', 'probe', 'idle'], '/b'), ['/b/tessera', 'probe', 'idle']);
    assert.deepEqual(resolveCommand(['/usr/local/bin/tessera-agent'], '/b'), ['/b/tessera-agent']);
    for (const c of [['sh', '-c', 'x'], ['/tmp/tessera'], [], ['../tessera']]) assert.throws(() => resolveCommand(c, '/b'), /executable file not found in \$PATH/);
  });

  it('sends the kubelet\'s exit Status: Success, or NonZeroExitCode with the ExitCode cause', () => {
    assert.deepEqual(exitStatus(['a'], 0), { metadata: {}, status: 'Success' });
    assert.deepEqual(exitStatus(['a', 'b'], 2), { metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [a b], exit code 2', details: { causes: [{ reason: 'ExitCode', message: '2' }] } });
  });

  it('writes the EndpointSlice of a service: selected pods with an IP, ready as their Ready condition, the numeric targetPort', () => {
    const svc = { metadata: { name: 'web', namespace: 'ct' }, spec: { selector: { app: 'w' }, ports: [{ name: 'tcp', protocol: 'TCP', port: 80, targetPort: 8080 }] } };
    const pod = (name: string, labels: Record<string, string>, ip?: string, ready = true) => ({ metadata: { name, namespace: 'ct', uid: `u-${name}`, labels },
      spec: { nodeName: 'n1' }, status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
    const s = desiredSlice(svc, [pod('a', { app: 'w' }, '10.0.0.1'), pod('b', { app: 'w' }, '10.0.0.2', false), pod('c', { app: 'w' }), pod('d', { app: 'x' }, '10.0.0.4')]) as unknown as {
      metadata: { name: string; labels: Record<string, string> }; ports: unknown; endpoints: Array<{ addresses: string[]; conditions: { ready: boolean } }> };
    assert.equal(s.metadata.name, 'web-lab');
    assert.equal(s.metadata.labels['kubernetes.io/service-name'], 'web');
    assert.deepEqual(s.ports, [{ name: 'tcp', protocol: 'TCP', port: 8080 }]);
    assert.deepEqual(s.endpoints.map((e) => [e.addresses[0], e.conditions.ready]), [['10.0.0.1', true], ['10.0.0.2', false]]);
  });

  it('frames: lengths 0..125, 16 and 64 bit; masked client frames; partial input stays for later', () => {
    for (const n of [0, 125, 126, 65535, 65536]) {
      const p = Buffer.alloc(n, 7);
      const { frames, rest } = parseFrames(frame(2, p));
      assert.equal(frames.length, 1);
      assert.equal(frames[0].payload.length, n);
      assert.equal(rest.length, 0);
    }
    const masked = Buffer.from([0x82, 0x83, 1, 2, 3, 4, 0x61 ^ 1, 0x62 ^ 2, 0x63 ^ 3]);
    assert.equal(parseFrames(masked).frames[0].payload.toString(), 'abc');
    assert.equal(parseFrames(masked.subarray(0, 5)).frames.length, 0);
  });

  it('talks to ws (client-node\'s WebSocket): subprotocol choice, messages both ways, close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-'));
    const sock = join(dir, 's');
    const srv = http.createServer();
    srv.on('upgrade', (req, s) => {
      const c = upgrade(req, s, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
      c?.onMessage((m) => {
        c.send(Buffer.concat([Buffer.from([1]), m.subarray(1)]));
        c.close();
      });
    });
    await new Promise<void>((r) => srv.listen(sock, r));
    try {
      const ws = new WebSocket(`ws+unix://${sock}:/exec`, ['v4.channel.k8s.io', 'v3.channel.k8s.io']);
      const got = await new Promise<{ protocol: string; data: Buffer }>((resolve, reject) => {
        ws.on('open', () => ws.send(Buffer.concat([Buffer.from([0]), Buffer.alloc(70_000, 0x41)])));
        ws.on('message', (d: Buffer) => resolve({ protocol: ws.protocol, data: d }));
        ws.on('error', reject);
      });
      assert.equal(got.protocol, 'v4.channel.k8s.io');
      assert.equal(got.data[0], 1);
      assert.equal(got.data.length, 70_001);
      await new Promise((r) => ws.on('close', r));
    } finally {
      srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
