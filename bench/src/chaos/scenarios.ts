import { approvals, teamResume } from './durable.js';
import { pii } from './pii.js';
import { r1 } from './r1.js';
import { r2 } from './r2.js';
import { r4 } from './r4.js';
import { r5 } from './r5.js';
import { r6 } from './r6.js';
import { r7 } from './r7.js';
import { r8 } from './r8.js';
import type { ChaosScenario } from './scenario.js';
import { cancel, nestedBudget, parallelBudget } from './team.js';

/**
 * Every scenario of the reliability suite, in the order they run. Each lives in its own module beside
 * this one and is added here.
 */
export const SCENARIOS: ChaosScenario[] = [
  parallelBudget,
  nestedBudget,
  cancel,
  r1,
  r2,
  r4,
  r8,
  // security.* (issue 12): `--only security` runs these.
  r5,
  r6,
  r7,
  pii,
  teamResume,
  approvals,
];
