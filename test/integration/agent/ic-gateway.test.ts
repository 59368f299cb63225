// The agent mirrors the node's OVN-IC gateway label into Open_vSwitch external_ids:ovn-is-interconn, against a real
// ovsdb-server with the vswitch schema.
import assert from 'node:assert/strict';
import type { V1Node } from '@kubernetes/client-node';
import { startOvsdbServer, spawnOut, SCHEMAS, type OvsdbServer } from '../../../testkit/ovsdb-server.js';
import { connectVswitch, type VswitchClient } from '../../../agent/ovs-ports.js';
import { syncInterconnFlag } from '../../../agent/ic-gateway.js';
import { IC_GATEWAY_LABEL, OVS_INTERCONN_KEY } from '../../../lib/ovnic/gateway-flag.js';

const node = (labels: Record<string, string>): V1Node => ({ metadata: { name: 'n1', labels } });

describe('agent: OVN-IC gateway flag', () => {
  let srv: OvsdbServer;
  let ovs: VswitchClient;

  before(async () => {
    srv = await startOvsdbServer({ schema: SCHEMAS.vswitch });
    await spawnOut('ovs-vsctl', [`--db=${srv.unix}`, '--no-wait', 'init']);
    await spawnOut('ovs-vsctl', [`--db=${srv.unix}`, '--no-wait', 'set', 'Open_vSwitch', '.', 'external_ids:system-id=n1', `external_ids:${OVS_INTERCONN_KEY}=false`]);
    ovs = await connectVswitch(srv.unix);
  });
  after(async () => {
    ovs?.close();
    await srv?.cleanup();
  });

  const flag = async (): Promise<string> =>
    (await spawnOut('ovs-vsctl', [`--db=${srv.unix}`, '--if-exists', 'get', 'Open_vSwitch', '.', `external_ids:${OVS_INTERCONN_KEY}`])).trim();

  it('sets the flag to "true" when the node carries the gateway label, overwriting a stale value', async () => {
    assert.equal(await syncInterconnFlag(node({ [IC_GATEWAY_LABEL]: 'true' }), ovs), 'set');
    assert.equal(await flag(), '"true"');
    await ovs.waitFor('Open_vSwitch', (r) => r.external_ids[OVS_INTERCONN_KEY] === 'true', 5000);
    assert.equal(await syncInterconnFlag(node({ [IC_GATEWAY_LABEL]: 'true' }), ovs), undefined, 'no write when already in step');
    assert.equal(await flag(), '"true"');
    // Other keys are untouched.
    assert.equal((await spawnOut('ovs-vsctl', [`--db=${srv.unix}`, 'get', 'Open_vSwitch', '.', 'external_ids:system-id'])).trim(), 'n1');
  });

  it('removes the flag when the label goes', async () => {
    assert.equal(await syncInterconnFlag(node({}), ovs), 'removed');
    assert.equal(await flag(), '');
  });
});
