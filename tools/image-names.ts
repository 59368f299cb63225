// Names shared by tools/build-image.ts and the image tests.
import { join } from 'node:path';

export const IMAGE_REPOSITORY = 'tessera/tessera';

/** dist/bin executables the image carries, in /usr/local/bin (the daemons' names are links to tessera). */
export const IMAGE_EXECUTABLES = ['tessera', 'tessera-agent', 'tessera-watcher', 'tessera-gateway', 'tessera-cni'];

export const imageRef = (version: string): string => `${IMAGE_REPOSITORY}:${version}`;

export const imageArchivePath = (root: string, version: string): string => join(root, 'dist', `tessera-image-${version}.tar`);
