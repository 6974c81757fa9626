/**
 * The built-in guards as the package exports them: each registered as portable under a `baton.*` kind,
 * so a team's guards made from them are rebuilt in a remote member's process (see portable.ts).
 */
import { allowListGuard as allowList } from './allow-list.js';
import { injectionGuard as injection } from './injection.js';
import { lengthGuard as length } from './length.js';
import {
  type KeywordModerationOptions,
  keywordModeration,
  type ModerationGuardOptions,
  moderationGuard as moderation,
} from './moderation.js';
import { piiGuard as pii } from './pii.js';
import { portableGuard } from './portable.js';
import { readOnlySqlGuard as readOnlySql } from './sql.js';

export const piiGuard = portableGuard('baton.pii', pii);
export const lengthGuard = portableGuard('baton.length', length);
export const allowListGuard = portableGuard('baton.allowList', allowList);
export const readOnlySqlGuard = portableGuard('baton.readOnlySql', readOnlySql);
/** Portable without a judge (a judge is a function: it stays in its process). */
export const injectionGuard = portableGuard('baton.injection', injection);
/** Never portable: the classifier is an object with code; `keywordModerationGuard` is the portable one. */
export const moderationGuard = moderation;

export interface KeywordModerationGuardOptions
  extends Omit<ModerationGuardOptions, 'classifier'>,
    Omit<KeywordModerationOptions, 'name'> {
  /** The classifier's name in reasons (default `keywords`). */
  classifierName?: string;
}

/**
 * A moderation guard with the offline KEYWORD classifier (a word list, not a model): the same as
 * `moderationGuard({ classifier: keywordModeration(...) })`, but portable when its words are strings.
 */
export const keywordModerationGuard = portableGuard(
  'baton.keywordModeration',
  (options: KeywordModerationGuardOptions) => {
    const { categories, classifierName, ...guard } = options;
    const classifier = keywordModeration({
      categories,
      ...(classifierName !== undefined ? { name: classifierName } : {}),
    });
    return moderation({ ...guard, classifier });
  },
);
