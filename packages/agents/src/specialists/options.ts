import type { Limits, Model } from '@baton/core';
import type { Corpus } from '../corpus/corpus.js';
import { bundledCorpus } from '../corpus/load.js';
import { modelForRole } from '../model-for-role.js';
import type { OfflineRole } from '../offline/model.js';

export interface SpecialistOptions {
  /** Default: `modelForRole(<role>)` — a real provider when the environment has one, else the offline model. */
  model?: Model;
  /** The documents to search and read; default the bundled corpus. */
  corpus?: Corpus;
  /** Merged over the specialist's own limits. */
  limits?: Partial<Limits>;
  /** Agent name (also its bus subject segment); default the role. */
  name?: string;
}

export function resolveShared(
  role: OfflineRole,
  options: SpecialistOptions,
): { model: Model; corpus: Corpus; name: string } {
  return {
    model: options.model ?? modelForRole(role),
    corpus: options.corpus ?? bundledCorpus(),
    name: options.name ?? role,
  };
}
