// Test listener: answers every TCP connection with "<name> sees <peer address>" and closes, so a test can see
// from the far side which source address a connection arrived with (SNAT or not).
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

// --run-dir only tags the command line, so a lab teardown that kills by run dir finds this process.
const { values } = parseArgs({ options: { name: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, 'run-dir': { type: 'string' } } });
const name = values.name ?? 'peer';
const port = Number(values.port ?? 9000);

createServer((sock) => {
  sock.end(`${name} sees ${sock.remoteAddress ?? '?'}\n`);
  sock.on('error', () => sock.destroy());
})
  .listen(port, values.host ?? '0.0.0.0', () => process.stdout.write(`listening ${port}\n`));
