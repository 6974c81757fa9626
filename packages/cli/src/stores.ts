import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { type NatsBus, natsApprovals, natsJournal } from '@baton/bus';
import { type ApprovalStore, fileApprovals, fileJournal, type RunJournal } from '@baton/core';
import { CliError, EXIT } from './errors.js';
import { connectNats } from './nats.js';
import { envNatsUrl, type NatsAuthFlags } from './nats-flags.js';

/** Where `baton run --journal` and `baton resume` keep journals and approvals without NATS. */
export const DEFAULT_STATE_DIR = '.baton';
/** Where `baton approvals` looks without NATS: the approvals of `DEFAULT_STATE_DIR`. */
export const DEFAULT_APPROVALS_DIR = join(DEFAULT_STATE_DIR, 'approvals');

export interface StoreFlags extends NatsAuthFlags {
  nats?: string;
  namespace?: string;
  dir?: string;
}

/** Where the stores of a command live, and the flags that reach them again from another command. */
export interface StoreLocation {
  kind: 'nats' | 'files';
  /** For people: `NATS nats://… (namespace ns)` or the directories. */
  describe: string;
  /** Flags that make `baton approvals …` use the same approvals (empty when the default finds them). */
  approvalsFlags: string[];
  /** Flags that make `baton resume` use the same journal and approvals (empty when the default does). */
  resumeFlags: string[];
}

export interface DurableStores extends StoreLocation {
  journal: RunJournal;
  approvals: ApprovalStore;
  /** The connection the stores use, when they are on NATS (the team's remote members may share it). */
  bus?: NatsBus;
  close(): Promise<void>;
}

export interface ApprovalStoreHandle extends StoreLocation {
  store: ApprovalStore;
  close(): Promise<void>;
}

/** Who decides, by default: `$USER@hostname`. */
export function defaultDecider(): string {
  let user = process.env.USER?.trim();
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}

/**
 * The approval store of `baton approvals`: `--dir` is a directory of approval files; otherwise `--nats`
 * (or NATS_URL) is the KV bucket of the namespace; with neither, the files of `.baton/approvals`.
 */
export async function openApprovalStore(flags: StoreFlags): Promise<ApprovalStoreHandle> {
  if (flags.dir !== undefined && flags.nats !== undefined) {
    throw new CliError('Give either --dir or --nats, not both', EXIT.USAGE);
  }
  const url = flags.dir === undefined ? (flags.nats ?? envNatsUrl()) : undefined;
  if (url) {
    const bus = await connectNats(url, `baton-approvals-${process.pid}`, flags);
    return {
      ...natsLocation(url, flags.namespace),
      store: natsApprovals(bus, flags.namespace ? { namespace: flags.namespace } : {}),
      close: () => bus.close(),
    };
  }
  if (flags.namespace) throw new CliError('--namespace only applies with --nats (or NATS_URL)', EXIT.USAGE);
  const dir = flags.dir ?? DEFAULT_APPROVALS_DIR;
  return {
    kind: 'files',
    describe: dir,
    approvalsFlags: approvalsDirFlags(dir),
    resumeFlags: [],
    store: fileApprovals({ dir }),
    close: async () => {},
  };
}

/**
 * The journal and approvals of a journaled team run. On NATS (`bus` given): the JetStream journal and
 * the approvals bucket of the namespace. Otherwise files: `<dir>/journal` and `<dir>/approvals`.
 */
export function durableStores(options: {
  bus?: NatsBus;
  url?: string;
  namespace?: string;
  dir?: string;
}): DurableStores {
  const { bus, url, namespace } = options;
  if (bus && url) {
    const ns = namespace ? { namespace } : {};
    return {
      ...natsLocation(url, namespace),
      journal: natsJournal(bus, ns),
      approvals: natsApprovals(bus, ns),
      bus,
      close: async () => {},
    };
  }
  const dir = options.dir ?? DEFAULT_STATE_DIR;
  const journalDir = join(dir, 'journal');
  const approvalsDir = join(dir, 'approvals');
  // NATS_URL would send a later `baton approvals` or `baton resume` to NATS: name the files then.
  const explicit = dir !== DEFAULT_STATE_DIR || envNatsUrl() !== undefined;
  return {
    kind: 'files',
    describe: `journal ${journalDir}, approvals ${approvalsDir}`,
    approvalsFlags: explicit ? ['--dir', approvalsDir] : [],
    resumeFlags: explicit ? ['--dir', dir] : [],
    journal: fileJournal({ dir: journalDir }),
    approvals: fileApprovals({ dir: approvalsDir }),
    close: async () => {},
  };
}

function natsLocation(url: string, namespace: string | undefined): StoreLocation {
  const flags = ['--nats', url, ...(namespace ? ['--namespace', namespace] : [])];
  return {
    kind: 'nats',
    describe: `NATS ${url} (namespace ${namespace ?? 'default'})`,
    approvalsFlags: flags,
    resumeFlags: flags,
  };
}

function approvalsDirFlags(dir: string): string[] {
  return dir === DEFAULT_APPROVALS_DIR && envNatsUrl() === undefined ? [] : ['--dir', dir];
}

// One definition of the NATS_URL default for every command (nats-flags.ts).
export { envNatsUrl };

/** `word` as one shell word a person can paste: bare when it is safe, else single-quoted. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(words: readonly string[]): string {
  return words.map(shellWord).join(' ');
}

/**
 * A fresh run id people can read and sort: the team's name, the local time and a random suffix, e.g.
 * `research-20260302-140509-3fa2c1`. Member runs append their own part to it.
 */
export function newRunId(team: string, now = new Date()): string {
  const name = team.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'run';
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `${name}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** A commander parser for a run id: what names a journal file, a subject token and a KV key. */
export function runIdArg(flag: string): (value: string) => string {
  return (value) => {
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(value)) {
      throw new CliError(`${flag} must be 1–100 letters, digits, "_" or "-" (got "${value}")`, EXIT.USAGE);
    }
    return value;
  };
}
