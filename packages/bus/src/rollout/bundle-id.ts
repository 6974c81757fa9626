import { BatonError } from '@baton/core';

/**
 * A bundle id as rollout routes it: one subject token (`sha256:<hex>` from `bundleOf`, or any name made
 * of letters, digits, `_`, `-` and `:`). It becomes part of the invoke subject, so no dots or wildcards.
 */
const BUNDLE_ID = /^[A-Za-z0-9_:-]{1,128}$/;

export function isBundleId(value: unknown): value is string {
  return typeof value === 'string' && BUNDLE_ID.test(value);
}

export function checkBundleId(where: string, value: unknown, field = 'bundle'): string {
  if (!isBundleId(value)) {
    throw new BatonError(
      'CONFIG_INVALID',
      `${where}: "${field}" must be a bundle id: 1–128 letters, digits, "_", "-" or ":" (e.g. sha256:<hex>)`,
      { details: { field } },
    );
  }
  return value;
}
