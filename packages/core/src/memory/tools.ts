/**
 * Memory as tools: the model decides what to remember (`save_memory`), looks things up (`recall_memory`)
 * and drops what is wrong or unwanted (`forget_memory`). The namespace comes from the run (tenant and
 * user), never from the model, so a model can only ever reach the memory of the person it works for.
 */
import { z } from 'zod';
import { BatonError } from '../errors.js';
import type { AnyTool, ToolContext } from '../tools/define.js';
import { defineTool } from '../tools/define.js';
import type { Embedder } from './embedder.js';
import { memoryScopeOf } from './scope.js';
import type { MemoryNamespace, MemoryStore } from './store.js';
import { guardedPut } from './write.js';

export interface MemoryToolsOptions {
  store: MemoryStore;
  /**
   * Fields that replace the run's: by default the tenant is `ToolContext.tenantId` (else `default`), the
   * user `ToolContext.userId`, the scope `default`. Without a user the tools refuse, unless this sets the
   * namespace explicitly (memory shared by the whole tenant is then a deliberate choice).
   */
  namespace?: Partial<MemoryNamespace>;
  /** Embeds saved values and queries for stores with vector search. */
  embedder?: Embedder;
  /** Most memories one recall returns (default 5, at most 20). */
  recallLimit?: number;
  /** How long saved memories live (default: until deleted, or the store's retention). */
  ttlMs?: number;
}

/** What the model may write: short facts, not documents (the store's own limits are far larger). */
const MAX_VALUE_CHARS = 2_000;

const saveInput = z.strictObject({
  key: z
    .string()
    .min(1)
    .max(100)
    .describe('A short, stable name for the fact, e.g. "preferred_units" — saving the same key replaces it'),
  value: z.string().min(1).max(MAX_VALUE_CHARS).describe('The fact to remember, in one or two sentences'),
});
const recallInput = z.strictObject({
  query: z.string().min(1).max(500).describe('What to look for, in a few words'),
  limit: z.number().int().min(1).max(20).optional().describe('How many memories at most (default 5)'),
});
const forgetInput = z.strictObject({
  key: z.string().min(1).max(100).describe('The key of the memory to forget'),
});

function namespaceOf(options: MemoryToolsOptions, context: ToolContext): MemoryNamespace {
  const user = options.namespace?.user ?? context.userId;
  if (user === undefined && options.namespace === undefined) {
    throw new BatonError(
      'CONFIG_INVALID',
      'Memory needs to know whose it is: run with { userId }, or give memoryTools({ namespace }) for tenant-wide memory',
    );
  }
  const namespace: MemoryNamespace = {
    tenant: options.namespace?.tenant ?? context.tenantId ?? 'default',
    scope: options.namespace?.scope ?? 'default',
  };
  if (user !== undefined) namespace.user = user;
  return namespace;
}

async function embedOne(embedder: Embedder | undefined, text: string, signal: AbortSignal) {
  if (embedder === undefined) return undefined;
  const [vector] = await embedder.embed([text], { signal });
  return vector;
}

/**
 * `save_memory`, `recall_memory` and `forget_memory` on a store. Saved memories are marked as written by
 * the agent (untrusted), pass the run's memoryWrite guards before they are stored, and come back from
 * recall as data inside the tool result's untrusted wrapper.
 */
export function memoryTools(options: MemoryToolsOptions): AnyTool[] {
  const { store, embedder } = options;
  const recallLimit = Math.min(20, Math.max(1, options.recallLimit ?? 5));

  const save = defineTool({
    name: 'save_memory',
    description:
      'Remember a fact about the user or the task for later sessions (a preference, a decision, a correction). ' +
      'Saving an existing key replaces its value.',
    input: saveInput,
    risk: 'write',
    // What it writes is stored as untrusted and only ever comes back wrapped as data, so saving after
    // reading untrusted content cannot turn that content into instructions.
    safeAfterUntrusted: true,
    progress: { start: ({ key }) => `Remembering ${key}` },
    async execute({ key, value }, context) {
      const scope = memoryScopeOf(context.runId);
      const namespace = namespaceOf(options, context);
      if (scope?.optedOut) {
        throw new BatonError('MEMORY_OPTED_OUT', 'Memory is off for this run: nothing was saved');
      }
      const provenance = {
        source: 'agent',
        trusted: false,
        runId: context.runId,
        agent: context.agent,
        ...(context.sessionId === undefined ? {} : { sessionId: context.sessionId }),
      };
      const { record, rewritten } = await guardedPut({
        store,
        namespace,
        key,
        value,
        options: {
          kind: 'fact',
          provenance,
          ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
        },
        guards: scope?.guards ?? [],
        runId: context.runId,
        agent: context.agent,
        signal: context.signal,
        events: scope?.events,
        via: 'tool',
        embed: (text) => embedOne(embedder, text, context.signal),
      });
      return { saved: record.key, version: record.version, ...(rewritten ? { redacted: true } : {}) };
    },
  });

  const recall = defineTool({
    name: 'recall_memory',
    description: 'Look up what was remembered in earlier sessions (facts, session recaps, past episodes).',
    input: recallInput,
    risk: 'read',
    progress: { start: ({ query }) => `Recalling ${query}` },
    async execute({ query, limit }, context) {
      const namespace = namespaceOf(options, context);
      const embedding = await embedOne(embedder, query, context.signal);
      const hits = await store.search(namespace, query, {
        limit: limit ?? recallLimit,
        ...(embedding === undefined ? {} : { embedding }),
      });
      const scope = memoryScopeOf(context.runId);
      if (scope?.events?.listens('memory.recalled')) {
        scope.events.emit({
          type: 'memory.recalled',
          runId: context.runId,
          agent: context.agent,
          at: Date.now(),
          via: 'tool',
          count: hits.length,
          untrusted: hits.filter((hit) => !hit.record.provenance.trusted).length,
          kinds: hits.map((hit) => hit.record.kind),
        });
      }
      // The whole result reaches the model inside the tool result's <untrusted_data> wrapper; `trusted`
      // says which entries the operator or the person vouched for.
      return {
        memories: hits.map(({ record }) => ({
          key: record.key,
          value: record.value,
          kind: record.kind,
          savedAt: new Date(record.updatedAt).toISOString(),
          source: record.provenance.source,
          trusted: record.provenance.trusted,
        })),
      };
    },
  });

  const forget = defineTool({
    name: 'forget_memory',
    description: 'Forget one remembered fact by its key (when it is wrong or the user asks to forget it).',
    input: forgetInput,
    risk: 'write',
    progress: { start: ({ key }) => `Forgetting ${key}` },
    async execute({ key }, context) {
      return { forgotten: await store.delete(namespaceOf(options, context), key) };
    },
  });

  const tools = [save, recall, forget] as AnyTool[];
  for (const tool of tools) memoryToolSet.add(tool);
  return tools;
}

const memoryToolSet = new WeakSet<AnyTool>();

/** True for the tools `memoryTools` made: a run with one sets up the scope they report through. */
export function isMemoryTool(tool: AnyTool): boolean {
  return memoryToolSet.has(tool);
}
