/**
 * The registry of step kinds: each kind's run, shell form and programs, gathered from the modules that own them.
 * Typed as StepKinds, so a kind of step with no entry here does not compile.
 */
import { ARTIFACT_STEPS } from '../artifacts/steps.js';
import { COPR_STEPS } from '../engines/copr.js';
import { GUEST_STEPS } from '../guest/steps.js';
import { KERNEL_STEPS } from '../kernel/steps.js';
import { BUILD_BENCH_STEPS } from '../speed/build-steps.js';
import { SPEED_STEPS } from '../speed/steps.js';
import type { StepKinds } from '../step.js';
import { FILE_STEPS } from './files.js';

export const STEP_KINDS: StepKinds = { ...FILE_STEPS, ...ARTIFACT_STEPS, ...KERNEL_STEPS, ...GUEST_STEPS, ...COPR_STEPS, ...SPEED_STEPS, ...BUILD_BENCH_STEPS };
