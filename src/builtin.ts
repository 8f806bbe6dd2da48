/**
 * A Node built-in loaded when first needed rather than when armkit starts (node:https, node:tls: several ms that
 * only a download uses). A require, not import(): the bundle runs as a vm.Script (src/compile-cache.ts), where
 * import() has no module loader to call and fails; esbuild turns armkit's own import() calls into requires, but
 * leaves those of built-ins as they are.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function loadBuiltin<T>(name: `node:${string}`): T {
  return require(name) as T;
}
