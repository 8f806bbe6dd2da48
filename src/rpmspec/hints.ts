/**
 * The programs the spec commands run before any plan's preflight (rpm2cpio and cpio to read a source RPM, rpm and
 * rpmspec to check a spec): when one is missing, the runner knows only that it is not there. Here it gets the
 * install command from the one requirement table, as the preflight would have said.
 */
import { ArmkitError, missing } from '../errors.js';
import { whichIn } from '../host.js';
import { installHint } from '../prereqs.js';

/** Runs `run`; a missing program among `programs` is reported with its install command (exit 4). */
export async function withInstallHints<T>(programs: string[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ArmkitError && error.kind === 'prerequisite') {
      const absent = programs.filter((program) => !whichIn(process.env.PATH, program));
      if (absent.length > 0)
        throw missing(
          installHint(absent[0]!),
          absent.slice(1).map((p) => installHint(p)),
        );
    }
    throw error;
  }
}
