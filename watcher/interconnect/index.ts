// Entry of the interconnect controller for the watcher's main: `startInterconnectController(deps)`.
export { startInterconnectController, type InterconnectDeps, type InterconnectController, type IcStatus, type IcState } from './controller.js';
export { IC_CONFIGMAP_NAME, IC_CONFIGMAP_NAMESPACE, parseIcConfig, type IcConfig } from './config.js';
export { IC_STATUS_CONFIGMAP_NAME } from './kube.js';
