import { r1 } from './r1.js';
import { r2 } from './r2.js';
import { r4 } from './r4.js';
import { r8 } from './r8.js';
import type { ChaosScenario } from './scenario.js';
import { cancel, nestedBudget, parallelBudget } from './team.js';

/**
 * Every scenario of the reliability suite, in the order they run. Each lives in its own module beside
 * this one and is added here.
 */
export const SCENARIOS: ChaosScenario[] = [parallelBudget, nestedBudget, cancel, r1, r2, r4, r8];
