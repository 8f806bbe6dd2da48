/**
 * zod/mini with English messages, the one way src/ reaches zod. Classic zod's schemas carry every method, so its
 * whole 450 KB came with the first schema and was compiled by every plan; zod/mini's functions tree-shake to what
 * the schemas use (about 20 KB). It ships no messages by default, so the English locale is set once here.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

// Re-exported name by name (not as one namespace object, which would keep every export, all locales included):
// importers write `import * as z from '../zod.js'`.
export * from 'zod/mini';
