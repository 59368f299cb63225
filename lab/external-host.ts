// A TCP listener that answers every connection with "<name> sees <peer address>" and closes, so the far side shows
// which source address a connection arrived with (the gateway's SNAT, or not); a UDP socket on the same port
// answers every datagram the same way. The lab's external host runs it, and so do the gateway tests. It prints
// "listening <port>" once both accept traffic.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

// --lab-run only tags the command line, so the lab's teardown (which kills by run dir) recognises this process.
const { values } = parseArgs({ options: { name: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, 'lab-run': { type: 'string' } } });
const name = values.name ?? 'external-host';
const port = Number(values.port ?? 9000);

const host = values.host ?? '0.0.0.0';
const udp = createSocket('udp4');
udp.on('message', (_msg, peer) => udp.send(`${name} sees ${peer.address}\n`, peer.port, peer.address));
udp.bind(port, host, () => {
  createServer((sock) => {
    sock.end(`${name} sees ${sock.remoteAddress ?? '?'}\n`);
    sock.on('error', () => sock.destroy());
  }).listen(port, host, () => process.stdout.write(`listening ${port}\n`));
});
