import { existsSync, readFileSync } from 'node:fs';
import {
  type Bundle,
  type BundleChange,
  bundleJsonSchema,
  bundleOf,
  diffBundles,
  isAgent,
  makeBundle,
} from '@baton/core';
import { AGENT_NAMES, servableAgent, TEAM_NAMES } from '@baton/teams';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { loadTeam } from '../load-team.js';

export interface BundleShowFlags {
  json?: boolean;
}

export interface BundleDiffFlags {
  json?: boolean;
}

/** `baton bundle show <team|agent|file>`: the bundle hash and what it covers (`--json`: the whole bundle). */
export async function bundleShowCommand(reference: string, flags: BundleShowFlags, io: Io): Promise<number> {
  const bundle = await resolveBundle(reference);
  if (flags.json) {
    io.out(
      JSON.stringify(
        { hash: bundle.hash, kind: bundle.kind, name: bundle.name, covers: bundle.covers },
        null,
        2,
      ),
    );
    return EXIT.OK;
  }
  io.out(`${bundle.kind} ${bundle.name}`);
  io.out(`bundle ${bundle.hash}`);
  io.out('');
  io.out('covers:');
  for (const line of describeCovers(bundle)) io.out(`  ${line}`);
  return EXIT.OK;
}

/**
 * `baton bundle diff <a> <b>`: the fields that differ between two bundles (catalogue names, team modules,
 * or files written by `baton bundle show --json`). Exits 0 when they are the same bundle, 1 when they
 * differ (like diff(1)).
 */
export async function bundleDiffCommand(
  a: string,
  b: string,
  flags: BundleDiffFlags,
  io: Io,
): Promise<number> {
  const [left, right] = [await resolveBundle(a), await resolveBundle(b)];
  const changes = diffBundles(left, right);
  if (flags.json) {
    io.out(
      JSON.stringify(
        {
          a: { name: left.name, hash: left.hash },
          b: { name: right.name, hash: right.hash },
          same: changes.length === 0,
          changes,
        },
        null,
        2,
      ),
    );
    return changes.length === 0 ? EXIT.OK : EXIT.NOT_COMPLETED;
  }
  io.out(`a: ${left.kind} ${left.name} ${left.hash}`);
  io.out(`b: ${right.kind} ${right.name} ${right.hash}`);
  if (changes.length === 0) {
    io.out('Same bundle: nothing that changes behaviour differs.');
    return EXIT.OK;
  }
  io.out(`${changes.length} field(s) differ:`);
  for (const change of changes) io.out(`  ${formatChange(change)}`);
  return EXIT.NOT_COMPLETED;
}

/** A bundle from a `.json` file, a catalogue agent, or a team (catalogue name or module path). */
export async function resolveBundle(reference: string): Promise<Bundle> {
  if (reference.endsWith('.json') || (existsSync(reference) && !/\.(m|c)?[jt]s$/.test(reference))) {
    return readBundleFile(reference);
  }
  if (AGENT_NAMES.includes(reference)) {
    const agent = servableAgent(reference).create();
    if (!isAgent(agent)) throw new CliError(`Agent "${reference}" has no bundle of its own`, EXIT.USAGE);
    return bundleOf(agent);
  }
  if (!TEAM_NAMES.includes(reference) && !existsSync(reference)) {
    throw new CliError(
      `Unknown team or agent "${reference}". Teams: ${TEAM_NAMES.join(', ')}; agents: ${AGENT_NAMES.join(', ')}; or a bundle file (.json)`,
      EXIT.USAGE,
    );
  }
  const { team } = await loadTeam(reference, {}, ['bundle', 'show', reference]);
  const bundle = team.bundle?.();
  if (!bundle) throw new CliError(`Team "${reference}" does not describe its bundle`, EXIT.USAGE);
  return bundle;
}

function readBundleFile(path: string): Bundle {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`Cannot read bundle file ${path}: ${(error as Error).message}`, EXIT.USAGE);
  }
  const parsed = bundleJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new CliError(
      `${path} is not a bundle (from \`baton bundle show --json\`): ${issues.join('; ')}`,
      EXIT.USAGE,
    );
  }
  // The hash is recomputed: a file edited by hand says so instead of passing for the version it names.
  const bundle = makeBundle(parsed.data.kind, parsed.data.name, parsed.data.covers);
  if (bundle.hash !== parsed.data.hash) {
    throw new CliError(
      `${path}: its hash ${parsed.data.hash} does not match what it covers (${bundle.hash}); the file was edited`,
      EXIT.USAGE,
    );
  }
  return bundle;
}

/** One line per covered field a person reads first; the full JSON is `--json`. */
function describeCovers(bundle: Bundle): string[] {
  const c = bundle.covers as Record<string, unknown>;
  if (bundle.kind === 'team') {
    const topology = (c.topology ?? {}) as Record<string, unknown>;
    const lines = [
      `topology: ${String(topology.kind ?? '?')} (budget ${short(topology.budget)}, maxRounds ${short(topology.maxRounds)}, termination ${short(topology.termination)})`,
    ];
    lines.push('members:');
    for (const [name, member] of Object.entries(
      (c.members ?? {}) as Record<string, { hash: string | null; kind: string }>,
    )) {
      lines.push(`  ${name.padEnd(16)} ${member.kind.padEnd(6)} ${member.hash ?? '(unknown: remote)'}`);
    }
    return lines;
  }
  const model = (c.model ?? {}) as { provider?: string; id?: string };
  const tools = (c.tools ?? []) as { name: string; risk: string }[];
  const instructions = String(c.instructions ?? '');
  return [
    `instructions: ${instructions.length} chars — ${JSON.stringify(instructions.slice(0, 60))}${instructions.length > 60 ? '…' : ''}`,
    `model: ${model.provider}:${model.id} (temperature ${short(c.temperature)}, maxOutputTokens ${short(c.maxOutputTokens)}, toolChoice ${short(c.toolChoice)})`,
    `tools: ${tools.length === 0 ? 'none' : tools.map((tool) => `${tool.name} (${tool.risk})`).join(', ')} — names, descriptions and JSON schemas`,
    `limits: ${short(c.limits)}`,
    `guardrails: ${short(c.guardrails)}`,
    `context: ${short(c.context ?? null)}`,
    `planning: ${short(c.planning ?? null)}`,
    `output schema: ${c.output === null ? 'none' : 'yes'}; input schema: ${c.input === null ? 'none' : 'yes'}; required tools: ${short(c.requiredTools)}; untrusted policy: ${short(c.untrustedPolicy)}`,
  ];
}

function formatChange(change: BundleChange): string {
  if (change.change === 'added') return `+ ${change.path}: ${short(change.after)}`;
  if (change.change === 'removed') return `- ${change.path}: ${short(change.before)}`;
  return `~ ${change.path}: ${short(change.before)} → ${short(change.after)}`;
}

function short(value: unknown, max = 100): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
