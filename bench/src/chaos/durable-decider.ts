/**
 * A decider process of `durable.approvals`: opens `connections` separate approval stores (NATS
 * connections, or file stores), prints READY, and at the agreed moments decides every approval from all
 * of them at once — approval i at startAt + i × intervalMs (startAt from the go file the suite writes
 * once every decider is ready), the same moments in every decider process.
 * Prints `RESULT <json>` (one DecideAttempt per decide call) and exits. Usage: node durable-decider.js <json>
 */
import { existsSync, readFileSync } from 'node:fs';
import { NatsBus, natsApprovals } from '@baton/bus';
import { type ApprovalStore, BatonError, fileApprovals } from '@baton/core';
import { approvalIds, type DecideAttempt, type DeciderConfig, decisionOf } from './durable-approvals.js';

const config = JSON.parse(process.argv[2] ?? '{}') as DeciderConfig;
const buses: NatsBus[] = [];
const stores: ApprovalStore[] = [];
for (let c = 0; c < config.connections; c++) {
  if (config.store === 'nats') {
    const bus = await NatsBus.connect({
      servers: config.url as string,
      name: `chaos-decider-p${config.process}-c${c}`,
    });
    buses.push(bus);
    stores.push(natsApprovals(bus, { namespace: config.namespace as string }));
  } else stores.push(fileApprovals({ dir: config.dir as string }));
}
// Every store opened (the KV bucket bound) and read once, so the first decides measure deciding.
await Promise.all(stores.map((store) => store.get(approvalIds(0).runId, approvalIds(0).toolCallId)));
process.stdout.write('READY\n');

while (!existsSync(config.goFile)) await new Promise((resolve) => setTimeout(resolve, 5));
const startAt = Number(readFileSync(config.goFile, 'utf8'));
const now = () => performance.timeOrigin + performance.now();
const attempts: Promise<DecideAttempt>[] = [];
for (let i = 0; i < config.approvals; i++) {
  const due = startAt + i * config.intervalMs;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const { runId, toolCallId } = approvalIds(i);
  for (let c = 0; c < stores.length; c++) {
    const store = stores[c] as ApprovalStore;
    const decider = config.firstDecider + c;
    const by = `p${config.process}-c${c}`;
    const at = now();
    attempts.push(
      store.decide(runId, toolCallId, decisionOf(decider), by).then(
        (record): DecideAttempt => ({
          i,
          by,
          decider,
          // The store says who won; a winner it names otherwise would be a bug the suite reports.
          outcome: record.decidedBy === by ? 'won' : 'error',
          ...(record.decidedBy === by ? {} : { code: `RETURNED_OTHER_WINNER:${record.decidedBy}` }),
          at,
          ms: now() - at,
        }),
        (error: unknown): DecideAttempt => {
          const code = BatonError.is(error) ? error.code : 'THROWN';
          return {
            i,
            by,
            decider,
            outcome: code === 'APPROVAL_DECIDED' ? 'lost' : 'error',
            code: code === 'APPROVAL_DECIDED' ? code : `${code}: ${String(error)}`.slice(0, 300),
            at,
            ms: now() - at,
          };
        },
      ),
    );
  }
}
const results = await Promise.all(attempts);
process.stdout.write(`RESULT ${JSON.stringify(results)}\n`);
await Promise.all(buses.map((bus) => bus.close()));
process.exit(0);
