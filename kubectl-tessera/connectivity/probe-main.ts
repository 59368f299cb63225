// `tessera probe`: what connectivity's test pods run, so the Tessera image (no nc, no ping) is enough for them.
//   tessera probe serve --port N             TCP: greets with the pod's name; UDP on the same port: answers each datagram
//   tessera probe connect IP PORT [--udp] [--timeout S]   exit 0 when the connection (or a UDP answer) comes within S s
//   tessera probe idle                       waits for SIGTERM (a client pod's main process)
// ICMP needs a raw socket, which Node does not offer: connectivity's checks are TCP (and UDP) connections.
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { connect, createServer } from 'node:net';
import { parseArgs } from 'node:util';

const USAGE = 'usage: tessera probe serve --port N | connect IP PORT [--udp] [--timeout S] | idle\n';

function fail(msg: string, code = 1): never {
  process.stderr.write(`${msg}\n`);
  process.exit(code);
}

export function parsePort(s: string | undefined): number {
  const n = Number(s);
  if (!s || !Number.isInteger(n) || n < 1 || n > 65535) fail(`port "${s ?? ''}": must be 1..65535\n${USAGE}`, 2);
  return n;
}

function serve(port: number): void {
  const name = process.env.HOSTNAME ?? hostname();
  createServer((sock) => {
    sock.on('error', () => sock.destroy());
    sock.end(`tessera-probe ${name}\n`);
  }).listen(port, '0.0.0.0', () => process.stdout.write(`serving TCP and UDP on :${port}\n`));
  const udp = createSocket('udp4');
  udp.on('message', (_m, peer) => udp.send(`tessera-probe ${name}\n`, peer.port, peer.address));
  udp.bind(port, '0.0.0.0');
}

function connectTcp(ip: string, port: number, timeoutS: number): void {
  const sock = connect({ host: ip, port, timeout: timeoutS * 1000 });
  sock.once('connect', () => {
    process.stdout.write(`connected to ${ip}:${port} from ${sock.localAddress ?? '?'}\n`);
    sock.destroy();
    process.exit(0);
  });
  sock.once('timeout', () => fail(`timeout: no TCP connection to ${ip}:${port} within ${timeoutS} s`));
  sock.once('error', (e: NodeJS.ErrnoException) => fail(`${e.code ?? 'error'}: TCP ${ip}:${port}: ${e.message}`));
}

function connectUdp(ip: string, port: number, timeoutS: number): void {
  const s = createSocket('udp4');
  const timer = setTimeout(() => fail(`timeout: no UDP answer from ${ip}:${port} within ${timeoutS} s`), timeoutS * 1000);
  s.once('message', (m) => {
    clearTimeout(timer);
    process.stdout.write(`UDP answer from ${ip}:${port}: ${m.toString().trim()}\n`);
    process.exit(0);
  });
  s.once('error', (e: NodeJS.ErrnoException) => fail(`${e.code ?? 'error'}: UDP ${ip}:${port}: ${e.message}`));
  s.send('probe\n', port, ip);
}

function main(argv: string[]): void {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true,
    options: { port: { type: 'string' }, udp: { type: 'boolean' }, timeout: { type: 'string', default: '3' } } });
  const [verb, ip, port] = positionals;
  const timeoutS = Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) fail(`--timeout "${values.timeout}": must be a positive number of seconds`, 2);
  process.on('SIGTERM', () => process.exit(0));
  if (verb === 'serve') return serve(parsePort(values.port));
  if (verb === 'idle') return void setInterval(() => undefined, 1 << 30);
  if (verb === 'connect' && ip) return values.udp ? connectUdp(ip, parsePort(port), timeoutS) : connectTcp(ip, parsePort(port), timeoutS);
  fail(USAGE, 2);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`, 2);
}
