// Injected by tools/build.ts at bundle time; falls back for tsx runs in tests.
declare const __TESSERA_VERSION__: string | undefined;
export const VERSION: string = typeof __TESSERA_VERSION__ === 'string' ? __TESSERA_VERSION__ : '0.0.0-dev';

/** What `--version` prints: the release and the Node runtime the executable embeds. */
export function versionLine(name: string): string {
  return `${name} ${VERSION} (node ${process.version})\n`;
}
