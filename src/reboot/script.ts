/** The warm reboot as a standalone POSIX shell script, from the plan: what --dry-run prints, --script writes and armkit runs. */
import { renderTemplate } from '../templates.js';
import type { WarmRebootFacts, WarmRebootPlan } from './plan.js';

export function warmRebootScript(plan: WarmRebootPlan, family: WarmRebootFacts['family'], version: string): string {
  return renderTemplate('reboot/warm-reboot.sh.ejs', { ...plan, family, version });
}
