// The lab's steps, in the order startLab runs them. A new piece of the lab (a VPC, OpenStack, nested VMs) is a
// LabStep in a module of its own and one line in LAB_STEPS; its check() joins lab.check() and make lab-status.
import type { LabFile } from './lab-file.js';
import type { LabContext, LabStep } from './lab-context.js';
import type { CheckResult } from './report.js';
import { apiStep, centralStep, nodesStep, underlayStep } from './step-infra.js';
import { kubeletStep } from './kubelet-step.js';
import { agentsStep, watcherStep } from './step-tessera.js';
import { describeStep, gatewayStep, podsStep, policyStep, servicesStep } from './step-workloads.js';
import { vpcStep } from './vpc.js';
import { nestedStep } from './nested.js';
import { openstackSharedStep } from './openstack/shared.js';
import { allSettledOrThrow } from './wait.js';

/** Steps that need nothing of each other, run concurrently (each still fails on its own). */
export function together(...steps: LabStep[]): LabStep {
  return {
    name: steps.map((s) => s.name).join(' + '),
    run: async (c: LabContext) => void await allSettledOrThrow(steps.map((s) => s.run(c))),
    check: async (file, o) => (await Promise.all(steps.map((s) => s.check?.(file, o) ?? []))).flat(),
  };
}

export const LAB_STEPS: readonly LabStep[] = [
  underlayStep,
  centralStep,
  together(nodesStep, apiStep),
  watcherStep,
  agentsStep,
  kubeletStep,
  podsStep,
  servicesStep,
  describeStep,
  policyStep,
  gatewayStep,
  vpcStep,
  nestedStep,
  openstackSharedStep,
];

/** Every step's checks against a running lab, in step order. */
export async function labChecks(file: LabFile, o: { servers: boolean }, steps: readonly LabStep[] = LAB_STEPS): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const s of steps) if (s.check) out.push(...await s.check(file, o));
  return out;
}
