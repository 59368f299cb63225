// tessera-agent's /metrics after real CNI work (real OVS/OVN, the API test double), and the CNI error of an ADD
// whose annotation never comes naming the cause the watcher left in tessera.io/pod-network-error.
// Needs root and dist/bin/tessera-agent.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../../lab/wait.js';
import { podPath } from '../../../lab/kube.js';
import { POD_NETWORK_ERROR_ANNOTATION } from '../../../lib/kube/annotations.js';
import { sample } from '../../fixtures/prom.js';
import { useAgentFixture, type TestPod } from './fixture.js';
import { ok, err } from './answers.js';

describe('tessera-agent /metrics and the annotation-timeout cause (integration, real OVS/OVN)', function () {
  this.timeout(120_000);
  const f = useAgentFixture((f) => f.startReadyAgent());
  const pods: TestPod[] = [];
  let adds = 0;
  const metrics = async (): Promise<string> => {
    const r = await f.healthAnswer('/metrics');
    assert.equal(r.status, 200);
    return r.body;
  };
  /** Pod interfaces on br-int, counted by OVS itself. */
  const ovsPodPorts = async (): Promise<number> =>
    (await f.vsctl(['--bare', '--columns=name', 'find', 'Interface', 'external_ids:tessera.io/ifname=eth0'])).split('\n').filter(Boolean).length;

  it('counts every ADD in the request histogram and the ovn-installed wait of each wired one', async () => {
    for (const name of ['m1', 'm2', 'm3']) {
      const p = await f.makePod(name);
      pods.push(p);
      ok(await f.request(f.addRequest(p)));
      adds++;
    }
    // A failing ADD: CNI_NETNS is a plain file, refused with code 4 before any wait.
    const notNs = join(f.dir, 'not-a-netns');
    writeFileSync(notNs, '');
    const bad = await f.makePod('m-bad');
    assert.equal(err(await f.request(f.addRequest(bad, { netns: notNs }))).code, 4);
    adds++;
    ok(await f.request({ ...f.addRequest(pods[0]), command: 'DEL' }));
    const text = await metrics();
    assert.equal(sample(text, 'tessera_agent_cni_request_duration_seconds_count{command="ADD"}'), adds);
    assert.equal(sample(text, 'tessera_agent_cni_request_duration_seconds_count{command="DEL"}'), 1);
    for (const stage of ['annotation', 'netns', 'ovs', 'ovn_installed']) {
      assert.equal(sample(text, `tessera_agent_cni_add_stage_duration_seconds_count{stage="${stage}"}`), 3, stage);
    }
    assert.equal(sample(text, 'tessera_agent_cni_errors_total{command="ADD",code="4"}'), 1);
    assert.equal(sample(text, 'tessera_agent_cni_errors_total{command="DEL",code="4"}'), undefined);
    assert.equal(await ovsPodPorts(), 2);
    assert.equal(sample(text, 'tessera_agent_pod_ports'), 2);
    const ifaces = (await f.vsctl(['--bare', '--columns=_uuid', 'list', 'Interface'])).split('\n').filter(Boolean).length;
    assert.equal(sample(text, 'tessera_ovsdb_monitor_rows{db="ovs",table="Interface"}'), ifaces);
    assert.equal(sample(text, 'tessera_ovsdb_connected{db="ovs"}'), 1);
  });

  it('counts the ports reconcile removes for a pod that went without a DEL', async () => {
    await f.deletePodObject(pods[1]);
    await waitFor('reconcile to remove the port', async () => (await f.ovsPortExists(pods[1].hostVeth)) === false, 20_000);
    const text = await metrics();
    assert.equal(sample(text, 'tessera_agent_reconcile_removed_total{kind="port"}'), 1);
    assert.equal(sample(text, 'tessera_agent_pod_ports'), await ovsPodPorts());
  });

  it('names the watcher\'s pod-network-error in the annotation timeout, and only when it is fit to quote', async () => {
    const cause = 'AddressExhausted: subnet 10.244.1.0/24 has no free address for default/m-wait (251 pod addresses, all allocated)';
    const p = await f.makePod('m-wait', { annotate: false });
    await f.kube.patch(podPath(p.namespace, p.name), { metadata: { annotations: { [POD_NETWORK_ERROR_ANNOTATION]: cause } } });
    const config = { annotationTimeoutMs: 1500, ovnInstalledTimeoutMs: 10_000 };
    const r = err(await f.request(f.addRequest(p, { config })));
    assert.equal(r.code, 11);
    assert.equal(r.msg, `pod default/m-wait: annotation tessera.io/pod-networks not set within 1500 ms; likely cause (${POD_NETWORK_ERROR_ANNOTATION}): ${JSON.stringify(cause)}`);
    // Anyone who can edit the pod can write it: a value with a control character is not quoted.
    await f.kube.patch(podPath(p.namespace, p.name), { metadata: { annotations: { [POD_NETWORK_ERROR_ANNOTATION]: 'evil\r\nX-Injected: 1' } } });
    await new Promise((res) => setTimeout(res, 300));
    const r2 = err(await f.request(f.addRequest(p, { config })));
    assert.equal(r2.msg, 'pod default/m-wait: annotation tessera.io/pod-networks not set within 1500 ms');
    const text = await metrics();
    assert.equal(sample(text, 'tessera_agent_cni_errors_total{command="ADD",code="11"}'), 2);
    assert.equal(sample(text, 'tessera_agent_cni_request_duration_seconds_count{command="ADD"}'), adds + 2);
  });
});
