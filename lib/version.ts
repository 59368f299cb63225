// Injected by tools/build.ts at bundle time; falls back for tsx runs in tests.
declare const __TESSERA_VERSION__: string | undefined;
export const VERSION: string = typeof __TESSERA_VERSION__ === 'string' ? __TESSERA_VERSION__ : '0.0.0-dev';
