// What the lab kubelet (kubelet.ts) is told by the lab: where the API is, which nodes it plays kubelet for (their
// netns, IP and CNI config), the executables an image's commands resolve to, and its own socket and state dir.
import type { NodeCniConfig } from './cni.js';

export interface KubeletNode {
  name: string;
  netns: string;
  ip: string;
  cni: NodeCniConfig;
}

export interface KubeletConfig {
  apiSocket: string;
  tokenFile: string;
  /** Pods' netns are `<podNetnsPrefix><namespace>-<name>`, as the lab's own pods (naming.ts). */
  podNetnsPrefix: string;
  binDir: string;
  /**
   * The image whose executables (/usr/local/bin in the image) are binDir's: the one `make image` builds from them.
   * The kubelet runs the pods of that image's repository (another tag: ErrImagePull) and leaves every other pod to
   * whoever wires it (the lab's steps use tessera-lab/* images, tests their own).
   */
  image: string;
  nodes: KubeletNode[];
  socket: string;
  dir: string;
}
