import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditRecord, fileAuditSink, splitAuditEntries, verifyAudit } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Email, Refund } from '../src/with-guardrails/desk.js';
import { CRM_SECRETS, type GuardrailsExampleRun, main, TICKETS } from '../src/with-guardrails/main.js';
import { capture } from './capture.js';

function lines<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

describe('examples/with-guardrails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-example-guardrails-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const io = capture();
  let example: GuardrailsExampleRun;
  // One run of the example; each test checks one of its claims against a side channel.
  beforeAll(async () => {
    example = await main({ dir, out: io.out, progress: io.progress });
  });

  it('the ledger and the outbox hold exactly the approved refund and the customer reply', () => {
    // Keys are `<runId>:<toolCallId>`: nothing from the dry run, nothing the injections asked for.
    const refunds = lines<Refund>(example.files.refunds);
    expect(refunds).toEqual([
      {
        idempotencyKey: expect.stringMatching(/^T-1042-live:/),
        orderId: '8812',
        amountUsd: 42.5,
        reason: 'duplicate charge',
      },
    ]);
    const emails = lines<Email>(example.files.outbox);
    expect(emails).toEqual([
      expect.objectContaining({
        idempotencyKey: expect.stringMatching(/^T-1042-live:/),
        to: TICKETS.refund.from,
      }),
    ]);
    expect(example.status).toBe('completed');
    expect(example.claims.every((claim) => claim.held)).toBe(true);
  });

  it('a dry run runs the read tools and returns previews; the counters show nothing was executed', () => {
    const { result, after } = example.scenes.dryRun;
    expect(result.status).toBe('completed');
    expect(result.partial.toolResults.filter((record) => record.tool === 'lookup_customer')).toHaveLength(1);
    expect(result.previews?.map((preview) => [preview.tool, preview.preview])).toEqual([
      ['issue_refund', 'refund $42.50 on order 8812 (Dana Whitfield, Visa ending 1111)'],
      [
        'send_email',
        expect.stringMatching(/^email to dana\.whitfield@example\.com, subject "Re: Charged twice/),
      ],
    ]);
    expect(after).toEqual({ refunds: 0, emails: 0 });
  });

  it('PII in the CRM record never reaches the model; the card the customer typed is cut from the answer', () => {
    const { live } = example.scenes;
    const lookup = live.modelSaw.find(
      (message) => message.role === 'tool' && message.toolName === 'lookup_customer',
    );
    expect(lookup?.content).toContain('[US_SSN]');
    expect(lookup?.content).toContain('[CREDIT_CARD]');
    const toolMessages = Object.values(example.scenes).flatMap((scene) =>
      scene.modelSaw.filter((message) => message.role === 'tool').map((message) => message.content),
    );
    for (const content of toolMessages) {
      expect(content).not.toContain(CRM_SECRETS.ssn);
      expect(content).not.toContain(CRM_SECRETS.card);
    }
    // The model did read the card in the customer's own message, and quoted it: the output guard caught it.
    expect(live.modelSaw.find((message) => message.role === 'user')?.content).toContain(CRM_SECRETS.card);
    expect(live.result.output).toContain('to card [CREDIT_CARD]');
    const results = JSON.stringify(Object.values(example.scenes).map((scene) => scene.result));
    expect(results).not.toContain(CRM_SECRETS.card);
    expect(results).not.toContain(CRM_SECRETS.ssn);
  });

  it('the injected refund: the model obeyed, the taint policy asked a person, the person denied it', () => {
    const { injection } = example.scenes;
    expect(injection.modelCalls.map((call) => [call.name, call.arguments])).toContainEqual([
      'issue_refund',
      { orderId: '7730', amountUsd: 95, reason: 'goodwill' },
    ]);
    expect(injection.result.status).toBe('denied');
    expect(
      example.decisions.map((entry) => [entry.ticket, entry.request.reason, entry.decision.decision]),
    ).toEqual([
      ['T-1042', 'untrusted_context', 'approve'],
      ['T-1043', 'untrusted_context', 'deny'],
    ]);
    expect(example.decisions[1]?.request.preview).toBe(
      'refund $95.00 on order 7730 (Marcus Chen, Mastercard ending 4444)',
    );
    // The injection detector saw it too (flag mode: recorded, not blocking).
    expect(
      injection.guards.some((event) => event.guard === 'injection' && event.findings.includes('injection')),
    ).toBe(true);
    expect(lines<Refund>(example.files.refunds).some((refund) => refund.orderId === '7730')).toBe(false);
  });

  it('the exfiltration email: the model obeyed, the allow-list tripped before anything was sent', () => {
    const { exfiltration } = example.scenes;
    expect(exfiltration.modelCalls.at(-1)).toMatchObject({
      name: 'send_email',
      arguments: { to: 'records@exfil.example' },
    });
    expect(exfiltration.result.status).toBe('guardrail_tripped');
    expect(exfiltration.result.error?.details).toMatchObject({
      guard: 'recipients',
      stage: 'toolInput',
      tool: 'send_email',
    });
    expect(lines<Email>(example.files.outbox).map((email) => email.to)).toEqual([TICKETS.refund.from]);
  });

  it('the audit log verifies with the public key, holds no secret, and an edit to it is detected', async () => {
    // The CRM really received a token on every lookup, minted per run.
    expect(example.crmTokens).toHaveLength(4);
    expect(new Set(example.crmTokens).size).toBe(4);
    const text = readFileSync(example.files.audit, 'utf8');
    for (const token of example.crmTokens) expect(text).not.toContain(token);
    expect(text).not.toContain(CRM_SECRETS.ssn);
    expect(text).not.toContain(CRM_SECRETS.card);

    const { records, heads } = splitAuditEntries(
      await fileAuditSink({ path: example.files.audit }).readRaw(),
    );
    const verified = verifyAudit(records, heads, { publicKey: example.audit.publicKey, requireSigned: true });
    expect(verified.ok).toBe(true);
    const audited = records as AuditRecord[];
    const calls = (tool: string) =>
      audited.filter((record) => record.kind === 'tool.call' && record.tool === tool).map((r) => r.outcome);
    expect(calls('issue_refund')).toEqual(['skipped', 'ok']);
    expect(calls('send_email')).toEqual(['skipped', 'ok']);
    expect(audited.filter((record) => record.kind === 'approval.decision').map((r) => r.decision)).toEqual([
      'approve',
      'deny',
    ]);
    expect(audited.filter((record) => record.kind === 'guard.trip')).toMatchObject([
      { guard: 'recipients', tool: 'send_email', runId: 'T-1044-live' },
    ]);
    expect(
      audited.every((record) => record.tenantId === 'acme-support' && record.userId === 'desk-bot'),
    ).toBe(true);

    // Edit the file itself: the refund's amount, on its line.
    const edited = join(dir, 'audit-edited.jsonl');
    writeFileSync(edited, text.replace('"amountUsd":42.5', '"amountUsd":4250'));
    const tampered = splitAuditEntries(await fileAuditSink({ path: edited }).readRaw());
    const broken = verifyAudit(tampered.records, tampered.heads, { publicKey: example.audit.publicKey });
    expect(broken).toMatchObject({ ok: false, problem: 'modified' });
    expect(example.audit.tampered).toMatchObject({ ok: false, problem: 'modified' });
  });

  it('prints a short report a person can follow', () => {
    const report = io.stdout();
    expect(report).toContain('refund $42.50 on order 8812 (Dana Whitfield, Visa ending 1111)');
    expect(report).toContain('pii: redacted 1 US SSN, 1 payment card number');
    expect(report).toContain('the model saw "Bearer [REDACTED:crm]"');
    expect(report).toContain('→ denied: The call to "issue_refund" was denied');
    expect(report).toMatch(
      /→ guardrail_tripped: Guard "recipients" stopped the run at toolInput on send_email/,
    );
    expect(report).toMatch(/verifyAudit: ok, \d+ records, signed through record \d+/);
    expect(report).not.toContain('FAIL');
  });
});
