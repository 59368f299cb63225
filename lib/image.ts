// The name of Tessera's image (tools/build-image.ts builds it; connectivity's test pods run it by default) and the
// executables it carries in /usr/local/bin (the daemons' names are links to tessera).
export const IMAGE_REPOSITORY = 'tessera/tessera';

export const imageRef = (version: string): string => `${IMAGE_REPOSITORY}:${version}`;

export const IMAGE_EXECUTABLES = ['tessera', 'tessera-agent', 'tessera-watcher', 'tessera-gateway', 'tessera-cni'];
