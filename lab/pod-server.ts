// A pod's demo workload: TCP server that greets with the pod's name, then reports how many bytes it received
// once the client half-closes. Lets the lab (and a user with `nc -N`) prove bytes flow both ways. The same port
// answers UDP datagrams with the greeting, for UDP services (`nc -u`).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { name: { type: 'string' }, port: { type: 'string' }, 'lab-run': { type: 'string' } } });
const name = values.name ?? 'pod';
const port = Number(values.port ?? 8080);

createServer((sock) => {
  let n = 0;
  sock.write(`hello from ${name}\n`);
  sock.on('data', (d: Buffer) => (n += d.length));
  sock.on('end', () => sock.end(`${name} received ${n} bytes\n`));
  sock.on('error', () => sock.destroy());
  sock.setTimeout(30_000, () => sock.destroy());
}).listen(port, '0.0.0.0');

const udp = createSocket('udp4');
udp.on('message', (_msg, peer) => udp.send(`hello from ${name}\n`, peer.port, peer.address));
udp.bind(port, '0.0.0.0');
