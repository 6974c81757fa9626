import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Team } from '@baton/supervisor';
import { catalogueTeam, TEAM_NAMES, type TeamOptions } from '@baton/teams';
import { CliError, EXIT } from './errors.js';

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
export async function loadTeam(reference: string, options: TeamOptions): Promise<LoadedTeam> {
  if (!looksLikePath(reference)) {
    if (!TEAM_NAMES.includes(reference)) {
      throw new CliError(
        `Unknown team "${reference}". Valid teams: ${TEAM_NAMES.join(', ')}`,
        EXIT.USAGE,
        'Or give a path to a module that exports a team, e.g. `baton run ./my-team.js`',
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
      'Export a factory instead: `export default (options) => pipeline({ ... options.members("researcher") ... })`',
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
