// Where connectivity's test pods run and how a probe is sent from them (cluster-runner.ts).
import type { ExecResult } from '../exec.js';

export interface TestPodSpec {
  name: string;
  node: string;
  labels: Record<string, string>;
  /** Listen on TCP `port` (a server pod). */
  serve?: number;
}

export interface TestPod {
  name: string;
  node: string;
  ip: string;
}

/** A host outside the cluster (the lab's external host), for egress and NodePort. */
export interface ExternalHost {
  ip: string;
  port: number;
  probe(ip: string, port: number): Promise<ExecResult>;
}

export interface PodRunner {
  namespace: string;
  nodes: Array<{ name: string; ip: string }>;
  external?: ExternalHost;
  create(spec: TestPodSpec): Promise<TestPod>;
  /** A TCP connect from `from` to ip:port within `timeoutS`. */
  probe(from: TestPod, ip: string, port: number, timeoutS?: number): Promise<ExecResult>;
  /** Removes every pod this runner created, whatever state each is in. */
  cleanup(): Promise<string[]>;
}
