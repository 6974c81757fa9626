import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentLike, HandoffContract } from '@baton/core';
import type { Team } from '@baton/supervisor';
import { AGENT_NAMES, catalogueTeam, servableAgent, TEAM_NAMES, type TeamOptions } from '@baton/teams';
import { CliError, EXIT } from './errors.js';
import { selfCommand } from './io.js';
import { shellCommand } from './stores.js';

export interface LoadedTeam {
  team: Team;
  /** The team's input for `--topic`. */
  input(topic: string): unknown;
  /** Agents the team calls by name (catalogue teams): the workers it needs over a bus. */
  members: readonly string[];
  source: 'catalogue' | 'module';
}

/**
 * A team by catalogue name (`research`, `research-supervisor`, `debate`) or from a module path. A module
 * exports a Team (`export default team` or `export const team`), or a factory `(options) => Team` that
 * builds its members with `options.members` (needed for `--nats`); it may export `input(topic)`.
 */
export async function loadTeam(
  reference: string,
  options: TeamOptions,
  /** The command's words after `baton` (default `run <reference>`), for hints that repeat it. */
  command: readonly string[] = ['run', reference],
): Promise<LoadedTeam> {
  if (!looksLikePath(reference)) {
    if (!TEAM_NAMES.includes(reference)) {
      const closest = closestName(reference, TEAM_NAMES);
      throw new CliError(
        `Unknown team "${reference}". Valid teams: ${TEAM_NAMES.join(', ')}, or a path to a module that exports a team`,
        EXIT.USAGE,
        `${selfCommand()} ${shellCommand(command.map((word) => (word === reference ? closest : word)))}`,
      );
    }
    const entry = catalogueTeam(reference);
    return { team: entry.create(options), input: entry.input, members: entry.members, source: 'catalogue' };
  }
  const path = isAbsolute(reference) ? reference : resolve(process.cwd(), reference);
  if (!existsSync(path)) throw new CliError(`No such team module: ${path}`, EXIT.USAGE);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    if (/\.(m|c)?ts$/.test(path)) {
      // Node before 23.6 loads no TypeScript by itself: a loader such as tsx does.
      throw new CliError(
        `Cannot load ${reference}: ${(error as Error).message}`,
        EXIT.USAGE,
        `A TypeScript team needs a loader: install tsx (npm install --save-dev tsx), then run\n  ${withTsx(command)}`,
      );
    }
    throw new CliError(`Cannot load ${reference}: ${(error as Error).message}`, EXIT.USAGE);
  }
  const exported = module.default ?? module.team ?? module.createTeam;
  const remote = options.members !== undefined;
  let team: unknown = exported;
  if (typeof exported === 'function') team = (exported as (options: TeamOptions) => unknown)(options);
  else if (remote) {
    throw new CliError(
      `${reference} exports a ready-made team, so --nats cannot give it remote members`,
      EXIT.USAGE,
      'Export a factory instead: export default (options) => pipeline({ ... options.members("researcher") ... })',
    );
  }
  if (!isTeam(team)) {
    throw new CliError(
      `${reference} does not export a team (default export, \`team\`, or a \`createTeam(options)\` factory)`,
      EXIT.USAGE,
    );
  }
  const input =
    typeof module.input === 'function'
      ? (module.input as (topic: string) => unknown)
      : (topic: string) => topic;
  return { team, input, members: [], source: 'module' };
}

/** The command again with the tsx loader: on the node command line, or through NODE_OPTIONS for `baton`. */
function withTsx(command: readonly string[]): string {
  const self = selfCommand();
  const words = shellCommand(command);
  if (self.startsWith('node --import tsx ')) return `${self} ${words}`;
  if (self.startsWith('node ')) return `node --import tsx ${self.slice('node '.length)} ${words}`;
  return `NODE_OPTIONS="--import tsx" ${self} ${words}`;
}

/** The candidate nearest to `wanted` by edit distance (the first one on a tie). */
function closestName(wanted: string, candidates: readonly string[]): string {
  let best = candidates[0] ?? wanted;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(wanted.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** What `baton <mcp|a2a> serve <reference>` serves: a catalogue agent, or a team (by name or module path). */
export type ServedTarget =
  | { kind: 'agent'; agent: AgentLike; contract: HandoffContract }
  | { kind: 'team'; loaded: LoadedTeam };

/**
 * Resolves an agent name, a team name or a team module; anything else is a usage error naming the agents
 * and teams, with a hint that repeats `command` with a module path.
 */
export async function loadServed(
  reference: string,
  options: TeamOptions,
  command: readonly string[],
): Promise<ServedTarget> {
  if (AGENT_NAMES.includes(reference)) {
    const { contract, create } = servableAgent(reference);
    return { kind: 'agent', agent: create(), contract };
  }
  if (!looksLikePath(reference) && !TEAM_NAMES.includes(reference)) {
    throw new CliError(
      `Unknown agent or team "${reference}". Agents: ${AGENT_NAMES.join(', ')}. Teams: ${TEAM_NAMES.join(', ')}`,
      EXIT.USAGE,
      `Or a module that exports a team: ${selfCommand()} ${shellCommand(command.map((word) => (word === reference ? './my-team.js' : word)))}`,
    );
  }
  return { kind: 'team', loaded: await loadTeam(reference, options, command) };
}

function looksLikePath(reference: string): boolean {
  return /[\\/]/.test(reference) || /\.(c|m)?(j|t)s$/.test(reference);
}

function isTeam(value: unknown): value is Team {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'team' &&
    typeof (value as { run?: unknown }).run === 'function'
  );
}
