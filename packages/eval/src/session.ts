import {
  type AnyTool,
  BatonError,
  isAbortError,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type ModelStreamEvent,
  ToolError,
  type ToolFailure,
} from '@baton/core';
import {
  canonicalJson,
  RECORDING_VERSION,
  type RecordedModelCall,
  type RecordedToolCall,
  type Recording,
  recordResponse,
  requestFingerprint,
  responseOf,
} from './recording.js';

/** Wraps each member's model and tools as a team is built: how a run is recorded or replayed. */
export interface MemberHooks {
  model(member: string, model: Model): Model;
  tool(member: string, tool: AnyTool): AnyTool;
}

interface MemberTape {
  model: (RecordedModelCall | undefined)[];
  tools: RecordedToolCall[];
}

/**
 * Records a run: every model response (with a fingerprint of its request) and every tool execution,
 * per member, in order. `recording()` gives the file that `ReplaySession` replays.
 */
export class RecordingSession implements MemberHooks {
  private readonly tapes = new Map<string, MemberTape>();

  model(member: string, model: Model): Model {
    const tape = this.tape(member);
    const record = (request: ModelRequest, slot: number, response: ModelResponse) => {
      tape.model[slot] = { request: requestFingerprint(request), response: recordResponse(response) };
    };
    return {
      id: model.id,
      provider: model.provider,
      async generate(request) {
        // The slot is taken when the call starts, so the tape keeps call order even if answers overlap.
        const slot = tape.model.push(undefined) - 1;
        const response = await model.generate(request);
        record(request, slot, response);
        return response;
      },
      async *stream(request) {
        const slot = tape.model.push(undefined) - 1;
        for await (const event of model.stream(request)) {
          if (event.type === 'response') record(request, slot, event.response);
          yield event;
        }
      },
    };
  }

  tool(member: string, tool: AnyTool): AnyTool {
    const tape = this.tape(member);
    return {
      ...tool,
      execute: async (input, context) => {
        const args = jsonCopy(input);
        try {
          const data = await tool.execute(input, context);
          tape.tools.push({ tool: tool.name, args, ok: true, data: jsonCopy(data) });
          return data;
        } catch (error) {
          // A cancelled call has no outcome to replay.
          if (!isAbortError(error))
            tape.tools.push({ tool: tool.name, args, ok: false, error: failureOf(error) });
          throw error;
        }
      },
    };
  }

  /** The recording so far, with the run's identity and result. */
  recording(meta: Pick<Recording, 'id' | 'input' | 'team' | 'agent' | 'result'>): Recording {
    const members: Recording['members'] = {};
    for (const [name, tape] of this.tapes) {
      members[name] = {
        // A call that failed (provider error, abort) produced no response: nothing to replay.
        model: tape.model.filter((call): call is RecordedModelCall => call !== undefined),
        tools: [...tape.tools],
      };
    }
    return {
      v: RECORDING_VERSION,
      kind: 'baton.recording',
      source: 'recorder',
      recordedAt: new Date().toISOString(),
      ...meta,
      members,
    };
  }

  private tape(member: string): MemberTape {
    let tape = this.tapes.get(member);
    if (!tape) {
      tape = { model: [], tools: [] };
      this.tapes.set(member, tape);
    }
    return tape;
  }
}

export type ReplayMode = 'tools' | 'full';

/**
 * Replays a recording. `full`: each member's model answers with the recorded responses in order (a
 * request whose fingerprint differs from the recorded one, or one call too many, is a divergence) and
 * tools return their recorded results. `tools`: the models run for real and only tool results replay; a
 * call the recording does not have runs the real tool (counted in `misses`).
 *
 * A divergence throws EVAL_REPLAY_DIVERGED where it happens and is kept in `divergence`, so the run that
 * swallowed it (a tool failure, a failed member) is still reported as diverged.
 */
export class ReplaySession implements MemberHooks {
  divergence: BatonError | undefined;
  /** Tool calls the recording did not hold, run live (`tools` mode). */
  misses = 0;
  /** Recorded results served. */
  hits = 0;
  private readonly modelCursor = new Map<string, number>();
  private readonly toolQueues = new Map<string, Map<string, RecordedToolCall[]>>();

  constructor(
    readonly recording: Recording,
    readonly mode: ReplayMode = 'full',
  ) {
    for (const [member, tape] of Object.entries(recording.members)) {
      const queues = new Map<string, RecordedToolCall[]>();
      for (const call of tape.tools) {
        const key = toolKey(call.tool, call.args);
        const queue = queues.get(key) ?? [];
        queue.push(call);
        queues.set(key, queue);
      }
      this.toolQueues.set(member, queues);
    }
  }

  model(member: string, model: Model): Model {
    if (this.mode === 'tools') return model;
    const next = (request: ModelRequest): ModelResponse => {
      const calls = this.recording.members[member]?.model ?? [];
      const index = this.modelCursor.get(member) ?? 0;
      const recorded = calls[index];
      if (!recorded) {
        throw this.diverge(
          `${member} made model call ${index + 1}, but the recording has ${calls.length} for it`,
          { member, call: index + 1, recorded: calls.length },
        );
      }
      const asked = requestFingerprint(request);
      if (recorded.request !== undefined && recorded.request !== asked) {
        throw this.diverge(
          `${member}'s model call ${index + 1} asked something else than the recording (request ${asked} ≠ ${recorded.request})`,
          { member, call: index + 1, expected: recorded.request, actual: asked },
        );
      }
      this.modelCursor.set(member, index + 1);
      this.hits++;
      return responseOf(recorded.response);
    };
    return {
      id: model.id,
      provider: model.provider,
      generate: async (request) => next(request),
      async *stream(request): AsyncIterable<ModelStreamEvent> {
        const response = next(request);
        if (response.text) yield { type: 'text-delta', text: response.text };
        yield { type: 'response', response };
      },
    };
  }

  tool(member: string, tool: AnyTool): AnyTool {
    return {
      ...tool,
      execute: async (input, context) => {
        const queue = this.toolQueues.get(member)?.get(toolKey(tool.name, input));
        const recorded = queue?.shift();
        if (!recorded) {
          if (this.mode === 'tools') {
            this.misses++;
            return tool.execute(input, context);
          }
          throw this.diverge(`${member} called ${tool.name} with arguments the recording does not have`, {
            member,
            tool: tool.name,
            args: input,
          });
        }
        this.hits++;
        if (recorded.ok) return recorded.data;
        const failure = recorded.error ?? { code: 'TOOL_FAILED', message: 'failed', retryable: false };
        throw new ToolError(failure.code, failure.message, {
          retryable: failure.retryable,
          ...(failure.hint !== undefined ? { hint: failure.hint } : {}),
          ...(failure.details !== undefined ? { details: failure.details } : {}),
        });
      },
    };
  }

  /** Model calls recorded but never asked for (a replay that stopped early). */
  unconsumed(): { member: string; calls: number }[] {
    if (this.mode === 'tools') return [];
    return Object.entries(this.recording.members)
      .map(([member, tape]) => ({ member, calls: tape.model.length - (this.modelCursor.get(member) ?? 0) }))
      .filter((entry) => entry.calls > 0);
  }

  private diverge(message: string, details: Record<string, unknown>): BatonError {
    const error = new BatonError(
      'EVAL_REPLAY_DIVERGED',
      `Replay of ${this.recording.id} diverged: ${message}`,
      {
        details: { recording: this.recording.id, ...details },
        hint: 'The run no longer matches its recording: re-record it, or replay tool results only (mode "tools").',
      },
    );
    this.divergence ??= error;
    return error;
  }
}

function toolKey(tool: string, args: unknown): string {
  return `${tool}\u0000${canonicalJson(args ?? null)}`;
}

function jsonCopy(value: unknown): unknown {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function failureOf(error: unknown): ToolFailure {
  if (error instanceof ToolError) {
    return {
      code: error.toolCode,
      message: error.message,
      retryable: error.retryable,
      ...(error.hint !== undefined ? { hint: error.hint } : {}),
      ...(error.details !== undefined ? { details: error.details } : {}),
    };
  }
  if (error instanceof BatonError) {
    return {
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      ...(error.hint !== undefined ? { hint: error.hint } : {}),
    };
  }
  return {
    code: 'TOOL_FAILED',
    message: error instanceof Error ? error.message : String(error),
    retryable: false,
  };
}
