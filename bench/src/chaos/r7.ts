/**
 * security.r7: the audit log against tampering (issue 12). A 1,000-record log is written through the default file
 * sink with a signing key (a head every 100 records and on close, the latest head kept apart as an
 * operator would), read back, and then changed one way at a time: every field of every record modified
 * (and one removed, one added), every record forged with its hash recomputed, every insertion and
 * deletion, every adjacent swap and 1,000 random swaps, chain rewrites, every cut of the tail. Each
 * tampered log is verified as `baton audit verify --latest-head ... --require-signed` would: every one
 * must be detected, at the sequence number the tampering implies.
 *
 * Each tampering is verified by a verifier forked after the untouched records before it (checking the
 * same prefix 25,000 times would take minutes); every 97th is also verified from scratch with
 * `verifyAudit`, and the two must agree (`fullAgreed`).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditHead, createAuditLog, fileAuditSink, readAudit, recordsAndHeads } from '@baton/core';
import { runAuditTamperings, sampleAuditEvents } from '@baton/core/testing';
import { type ChaosScenario, scaled } from './scenario.js';

export const r7: ChaosScenario = {
  key: 'security.r7',
  description:
    'every one-change tampering of a 1,000-record signed audit log (modify, insert, delete, reorder, truncate) is detected at its seq',
  async run(options) {
    const count = scaled(options, 1_000, 100);
    const dir = mkdtempSync(join(tmpdir(), 'baton-r7-'));
    try {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const path = join(dir, 'audit.jsonl');
      let latest: AuditHead | undefined;
      const log = createAuditLog({
        sink: fileAuditSink({ path }),
        signingKey: privateKey,
        onHead: (head) => {
          latest = head;
        },
      });
      const writing = performance.now();
      for (const event of sampleAuditEvents(count)) await log.record(event);
      await log.close();
      const writeMs = performance.now() - writing;
      options.log(`wrote ${count} records to ${path} in ${Math.round(writeMs)} ms`);
      const stored = recordsAndHeads(await readAudit(fileAuditSink({ path })));
      const checking = performance.now();
      const report = runAuditTamperings(stored, { publicKey, latestHead: latest, requireSigned: true });
      options.log(
        `verified ${report.tamperings} tamperings in ${Math.round(performance.now() - checking)} ms`,
      );
      return {
        records: stored.records.length,
        heads: stored.heads.length,
        tamperings: report.tamperings,
        detected: report.detected,
        pinpointed: report.pinpointed,
        byKind: report.byKind,
        fullChecks: report.fullChecks,
        fullAgreed: report.fullAgreed,
        failures: report.failures,
        appendMsMean: Math.round((writeMs / count) * 100) / 100,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  check(figures) {
    const problems: string[] = [];
    const { tamperings, detected, pinpointed, fullChecks, fullAgreed } = figures as Record<string, number>;
    if (!(tamperings > 0)) problems.push('no tampering was tried');
    if (detected !== tamperings)
      problems.push(`${tamperings - detected} of ${tamperings} tamperings went undetected`);
    if (pinpointed !== detected) {
      problems.push(`${detected - pinpointed} tamperings were detected at the wrong sequence number`);
    }
    if (fullAgreed !== fullChecks) {
      problems.push(`${fullChecks - fullAgreed} forked verifications disagree with a full verifyAudit`);
    }
    return problems;
  },
};
