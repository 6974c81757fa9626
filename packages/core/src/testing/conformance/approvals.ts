import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type {
  ApprovalFilter,
  ApprovalRecord,
  ApprovalRequestRecord,
  ApprovalStore,
} from '../../approvals/types.js';
import { BatonError } from '../../errors.js';

/** One case of the approvals conformance suite: every ApprovalStore must pass them all. */
export interface ApprovalsCase {
  name: string;
  run(store: ApprovalStore): Promise<void>;
}

function request(overrides: Partial<ApprovalRequestRecord> = {}): ApprovalRequestRecord {
  return {
    runId: `run-${randomBytes(6).toString('hex')}`,
    toolCallId: 'call_1',
    agent: 'ops',
    tool: 'delete_records',
    risk: 'destructive',
    args: { table: 'users', where: { id: 7 } },
    reason: 'risk',
    requestedAt: Date.now(),
    ...overrides,
  };
}

/** Resolves with the first record `accept` takes, or rejects after `ms`. */
function waitFor(
  watch: NonNullable<ApprovalStore['watch']>,
  filter: ApprovalFilter,
  accept: (record: ApprovalRecord) => boolean,
  seen: ApprovalRecord[],
  ms: number,
): Promise<ApprovalRecord> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching record within ${ms} ms (saw ${seen.length})`));
    }, ms);
    const stop = watch(filter, (record) => {
      seen.push(record);
      if (!accept(record)) return;
      clearTimeout(timer);
      stop();
      resolve(record);
    });
  });
}

export const approvalsConformance: ApprovalsCase[] = [
  {
    name: 'a request is pending until decided; asking again returns the same record',
    async run(store) {
      const asked = request({ preview: 'delete 1 row from users' });
      const record = await store.request(asked);
      assert.equal(record.status, 'pending');
      assert.deepEqual(record.args, asked.args);
      assert.equal(record.preview, 'delete 1 row from users');
      const again = await store.request({ ...asked, args: { other: true } });
      assert.deepEqual(again.args, asked.args, 'the first request stands');
      assert.equal((await store.get(asked.runId, asked.toolCallId))?.status, 'pending');
    },
  },
  {
    name: 'approve, edit and deny are recorded with who and when',
    async run(store) {
      const cases = [
        [{ decision: 'approve' }, 'approved'],
        [{ decision: 'edit', args: { table: 'users', where: { id: 8 } } }, 'edited'],
        [{ decision: 'deny', reason: 'not today' }, 'denied'],
      ] as const;
      for (const [decision, status] of cases) {
        const asked = request();
        await store.request(asked);
        const before = Date.now();
        const decided = await store.decide(asked.runId, asked.toolCallId, decision, 'alice@ops');
        assert.equal(decided.status, status);
        assert.deepEqual(decided.decision, decision);
        assert.equal(decided.decidedBy, 'alice@ops');
        assert.ok((decided.decidedAt ?? 0) >= before - 1_000);
        assert.deepEqual((await store.get(asked.runId, asked.toolCallId))?.decision, decision);
      }
    },
  },
  {
    name: 'a decision is made exactly once, even by ten deciders at once',
    async run(store) {
      const asked = request();
      await store.request(asked);
      const deciders = Array.from({ length: 10 }, (_, index) =>
        store.decide(
          asked.runId,
          asked.toolCallId,
          { decision: index % 2 ? 'approve' : 'deny' },
          `d${index}`,
        ),
      );
      const results = await Promise.allSettled(deciders);
      const won = results.filter((result) => result.status === 'fulfilled');
      assert.equal(won.length, 1, 'one decider wins');
      for (const result of results) {
        if (result.status === 'rejected') assert.ok(BatonError.is(result.reason, 'APPROVAL_DECIDED'));
      }
      const final = await store.get(asked.runId, asked.toolCallId);
      assert.equal(
        final?.decidedBy,
        (won[0] as PromiseFulfilledResult<{ decidedBy?: string }>).value.decidedBy,
      );
    },
  },
  {
    name: 'deciding an unknown call is APPROVAL_UNKNOWN',
    async run(store) {
      await assert.rejects(store.decide('no-such-run', 'c', { decision: 'approve' }, 'x'), (error: unknown) =>
        BatonError.is(error, 'APPROVAL_UNKNOWN'),
      );
    },
  },
  {
    name: 'a call past its expiry reads as expired (denied) and can no longer be approved',
    async run(store) {
      const asked = request({ expiresAt: Date.now() - 1 });
      await store.request(asked);
      const read = await store.get(asked.runId, asked.toolCallId);
      assert.equal(read?.status, 'expired');
      assert.equal(read?.decision?.decision, 'deny');
      await assert.rejects(
        store.decide(asked.runId, asked.toolCallId, { decision: 'approve' }, 'late'),
        (error: unknown) => BatonError.is(error, 'APPROVAL_DECIDED'),
      );
    },
  },
  {
    name: 'lists by status, run and team run',
    async run(store) {
      const team = `team-${randomBytes(4).toString('hex')}`;
      const a = request({ teamRunId: team });
      const b = request({ teamRunId: team, toolCallId: 'call_2', runId: a.runId });
      const c = request();
      for (const asked of [a, b, c]) await store.request(asked);
      await store.decide(b.runId, b.toolCallId, { decision: 'approve' }, 'bob');
      const pendingOfTeam = await store.list({ teamRunId: team, status: 'pending' });
      assert.deepEqual(
        pendingOfTeam.map((record) => record.toolCallId),
        ['call_1'],
      );
      assert.equal((await store.list({ runId: a.runId })).length, 2);
      assert.ok((await store.list({ status: 'pending' })).some((record) => record.runId === c.runId));
    },
  },
  {
    name: 'a watcher sees a decision within a few seconds, and only the records its filter names',
    async run(store) {
      // watch is optional: a store without it is polled by its callers instead.
      if (!store.watch) return;
      const watching = store.watch.bind(store);
      const asked = request();
      const other = request();
      await store.request(asked);
      await store.request(other);
      const seen: ApprovalRecord[] = [];
      const decided = waitFor(
        watching,
        { runId: asked.runId },
        (record) => record.status === 'approved',
        seen,
        5_000,
      );
      // The current record comes first, so nothing decided between subscribing and reading is missed.
      const first = await waitFor(watching, { runId: asked.runId }, () => true, [], 5_000);
      assert.equal(first.status, 'pending');
      await store.decide(other.runId, other.toolCallId, { decision: 'deny' }, 'carol');
      await store.decide(asked.runId, asked.toolCallId, { decision: 'approve' }, 'dave');
      const record = await decided;
      assert.equal(record.toolCallId, asked.toolCallId);
      assert.equal(record.decidedBy, 'dave');
      assert.ok(
        seen.every((each) => each.runId === asked.runId),
        'records of other runs are not delivered',
      );
    },
  },
];
