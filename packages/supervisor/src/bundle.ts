import { type AgentLike, type Bundle, bundleOf, isAgent, isHandoffContract, makeBundle } from '@baton/core';
import type { Team } from './types.js';

/** What a member contributes to its team's bundle: its own bundle, or what identifies a remote member. */
export interface MemberBundle {
  hash: string | null;
  kind: 'agent' | 'team' | 'remote' | 'member';
  covers?: Readonly<Record<string, unknown>>;
  contract?: string;
}

/**
 * A team's bundle: its topology (the orchestrator's shape: kind, budget, rounds, termination, stages or
 * workers, contracts) and every member's own bundle, covered in full so `baton bundle diff` names the
 * member field that changed. A member that changes changes the team's hash.
 */
export function teamBundle(name: string, topology: unknown, members: readonly AgentLike[]): Bundle {
  const covered: Record<string, MemberBundle> = {};
  for (const member of members) covered[member.name] = memberBundleOf(member);
  return makeBundle('team', name, { kind: 'team', name, topology, members: covered });
}

/** A team built by this package carries its bundle; anything else has none. */
export function teamBundleOf(team: Team): Bundle | undefined {
  return team.bundle?.();
}

export function memberBundleOf(member: AgentLike): MemberBundle {
  if (isAgent(member)) {
    const bundle = bundleOf(member);
    return { hash: bundle.hash, kind: 'agent', covers: bundle.covers };
  }
  // A nested team (teamAsAgent) or a remote agent that knows the version it is served at.
  const carried = (member as { bundle?: unknown }).bundle;
  if (typeof carried === 'function') {
    const bundle = (carried as () => Bundle | undefined)();
    if (bundle) return { hash: bundle.hash, kind: bundle.kind, covers: bundle.covers };
  }
  const contract = (member as { contract?: unknown }).contract;
  const remote: MemberBundle = {
    hash: typeof carried === 'string' ? carried : null,
    kind: isHandoffContract(contract) ? 'remote' : 'member',
  };
  if (isHandoffContract(contract)) remote.contract = contract.id;
  return remote;
}

/** Computed once per team object: its members are fixed when it is built. */
export function cachedTeamBundle(name: string, topology: () => unknown, members: () => readonly AgentLike[]) {
  let bundle: Bundle | undefined;
  return (): Bundle => {
    bundle ??= teamBundle(name, topology(), members());
    return bundle;
  };
}
