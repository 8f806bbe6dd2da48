/** The options of armkit test, shared by its two check sets (commands/test.ts, commands/test-kmod.ts). */
import type { GuestSpeed } from '../plan/guest-test.js';

export interface TestOptions {
  arch?: string;
  /** Test the build made for this kernel (release or --kernel form). */
  kernel?: string;
  from?: string;
  /** A dnf repository (armkit repo's tree, or one architecture's) to take the packages from. */
  fromRepo?: string;
  opensslFrom?: string;
  out?: string;
  kernelImage?: string;
  openssl?: boolean;
  timeout?: string | number;
  /** armkit bench crypto --guest: openssl speed in the guest after the OpenSSL checks (needs --openssl). */
  speed?: GuestSpeed;
  recipes?: string[];
  cacheDir?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  timings?: boolean;
  wait?: boolean;
}
