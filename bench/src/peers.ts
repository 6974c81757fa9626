/**
 * The peer frameworks live in bench/peers, a separate npm project (not a workspace), so Baton's own
 * install stays lean. It is installed on demand: when node_modules is missing, or when a pinned
 * dependency is absent or at another version than package.json asks for.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const PEERS_DIR = fileURLToPath(new URL('../peers/', import.meta.url));

export interface Peer {
  /** Key under core.peers in the results. */
  key: 'openaiAgents' | 'langgraph' | 'mastra';
  /** The package whose version is reported. */
  packageName: string;
  /** The adapter module in bench/peers. */
  adapter: string;
}

export const PEERS: readonly Peer[] = [
  { key: 'openaiAgents', packageName: '@openai/agents', adapter: `${PEERS_DIR}openai-agents.mjs` },
  { key: 'langgraph', packageName: '@langchain/langgraph', adapter: `${PEERS_DIR}langgraph.mjs` },
  { key: 'mastra', packageName: '@mastra/core', adapter: `${PEERS_DIR}mastra.mjs` },
];

const manifestSchema = z.object({
  version: z.string(),
  dependencies: z.record(z.string(), z.string()).optional(),
});

/** The installed version of a package in bench/peers, or undefined when it is not installed. */
export function installedPeerVersion(packageName: string): string | undefined {
  const path = `${PEERS_DIR}node_modules/${packageName}/package.json`;
  if (!existsSync(path)) return undefined;
  return manifestSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).version;
}

/** Why bench/peers needs installing, or undefined when every pinned dependency is in place. */
export function peersStaleReason(): string | undefined {
  if (!existsSync(`${PEERS_DIR}node_modules`)) return 'bench/peers/node_modules is missing';
  const pins = manifestSchema.parse(
    JSON.parse(readFileSync(`${PEERS_DIR}package.json`, 'utf8')),
  ).dependencies;
  for (const [name, wanted] of Object.entries(pins ?? {})) {
    const installed = installedPeerVersion(name);
    if (installed === undefined) return `${name} is not installed`;
    if (installed !== wanted) return `${name} is ${installed}, package.json pins ${wanted}`;
  }
  return undefined;
}

/** Installs bench/peers when needed; returns an error message when that fails. */
export function ensurePeersInstalled(log: (line: string) => void): string | undefined {
  const reason = peersStaleReason();
  if (reason === undefined) return undefined;
  // A committed lockfile gives the exact tree the figures were taken with; without one, resolve the pins.
  const command = existsSync(`${PEERS_DIR}package-lock.json`) ? 'ci' : 'install';
  log(`installing the peer frameworks (${reason}): npm ${command} --prefix bench/peers ...`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const installed = spawnSync(npm, [command, '--prefix', PEERS_DIR, '--no-audit', '--no-fund'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 10 * 60_000,
  });
  if (installed.error) return `npm ${command} failed to start: ${installed.error.message}`;
  if (installed.status !== 0) return `npm ${command} --prefix bench/peers exited with ${installed.status}`;
  const still = peersStaleReason();
  return still === undefined ? undefined : `after npm ${command}: ${still}`;
}
