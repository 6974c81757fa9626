import { type NatsBus, natsApprovals, natsJournal } from '@baton/bus';
import { type ApprovalStore, memoryApprovals, memoryJournal, type RunJournal } from '@baton/core';
import { remoteMemberSource } from '../catalogue.js';
import type { TenantStores } from './executor.js';

/**
 * One gateway, no infrastructure: approvals in memory per tenant, and a journal per run that lives as
 * long as the run (it is what a paused run resumes from), so nothing grows with the runs served.
 */
export function memoryTenantStores(): TenantStores {
  const approvals = new Map<string, ApprovalStore>();
  const journals = new Map<string, RunJournal>();
  const key = (tenant: string, runId: string) => `${tenant}\u0000${runId}`;
  return {
    approvals(tenant) {
      let store = approvals.get(tenant);
      if (!store) {
        store = memoryApprovals();
        approvals.set(tenant, store);
      }
      return store;
    },
    journal(tenant, runId) {
      let journal = journals.get(key(tenant, runId));
      if (!journal) {
        journal = memoryJournal();
        journals.set(key(tenant, runId), journal);
      }
      return journal;
    },
    release(tenant, runId) {
      journals.delete(key(tenant, runId));
    },
    members: () => undefined,
  };
}

/**
 * On NATS: each tenant's journal on JetStream and its approvals in KV — the ones `baton approvals` and
 * `baton resume --nats --namespace <tenant>` use — and, when asked, members on the tenant's workers.
 */
export function natsTenantStores(bus: NatsBus, options: { remoteMembers: boolean }): TenantStores {
  const approvals = new Map<string, ApprovalStore>();
  const journals = new Map<string, RunJournal>();
  return {
    approvals(tenant) {
      let store = approvals.get(tenant);
      if (!store) {
        store = natsApprovals(bus, { namespace: tenant });
        approvals.set(tenant, store);
      }
      return store;
    },
    journal(tenant) {
      let journal = journals.get(tenant);
      if (!journal) {
        journal = natsJournal(bus, { namespace: tenant });
        journals.set(tenant, journal);
      }
      return journal;
    },
    release: () => {},
    members: (tenant) => (options.remoteMembers ? remoteMemberSource(bus, tenant) : undefined),
  };
}
