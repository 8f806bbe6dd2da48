// Prints the one line CI reads, "N passed, N failed": vitest's JSON report plus one result for the quick-start
// build (its exit status, the second argument). Skipped tests are reported on a line of their own before it.
import { existsSync, readFileSync } from 'node:fs';

const [file, buildStatus] = process.argv.slice(2);
const build = buildStatus === '0' ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
let passed = build.passed;
let failed = build.failed;
if (file && existsSync(file)) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numTotalTests === 0 ? 1 : 0);
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.error(
    `ci: ${r.numPassedTests} tests passed, ${r.numFailedTests} failed, ${skipped} skipped; the quick-start build ${build.failed ? 'failed' : 'passed'}`,
  );
} else {
  console.error('ci: the test command wrote no report (it did not run to the end)');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
