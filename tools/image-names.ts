// Names shared by tools/build-image.ts and the image tests.
import { join } from 'node:path';

export { IMAGE_EXECUTABLES, IMAGE_REPOSITORY, imageRef } from '../lib/image.js';

export const imageArchivePath = (root: string, version: string): string => join(root, 'dist', `tessera-image-${version}.tar`);
