import { BatonError } from '../errors.js';
import type { AnyTool } from '../tools/define.js';
import type { ContextStage } from './types.js';

const STAGES = 'capToolResults(), clearToolResults(), slidingWindow(), summarize(), scratchpad()';

export function isContextStage(value: unknown): value is ContextStage {
  const stage = value as Partial<ContextStage> | undefined;
  return (
    typeof stage === 'object' &&
    stage !== null &&
    stage.kind === 'context-stage' &&
    typeof stage.name === 'string' &&
    typeof stage.apply === 'function' &&
    typeof stage.settings === 'object' &&
    stage.settings !== null
  );
}

/** Checks a pipeline given in a configuration (`where` names it, `field` is its key). */
export function checkStages(value: unknown, where: string, field: string): readonly ContextStage[] {
  if (!Array.isArray(value)) {
    throw new BatonError(
      'CONFIG_INVALID',
      `${where}: "${field}" must be a list of context stages (${STAGES})`,
      {
        details: { field },
      },
    );
  }
  for (const [index, stage] of value.entries()) {
    if (!isContextStage(stage)) {
      throw new BatonError(
        'CONFIG_INVALID',
        `${where}: "${field}[${index}]" must be a context stage (${STAGES})`,
        { details: { field: `${field}[${index}]` } },
      );
    }
  }
  return Object.freeze([...value]) as readonly ContextStage[];
}

/** The tools a pipeline gives its agent, checked against the agent's own (names must stay unique). */
export function stageTools(
  stages: readonly ContextStage[],
  taken: ReadonlyMap<string, AnyTool>,
  where: string,
): AnyTool[] {
  const added: AnyTool[] = [];
  const names = new Set(taken.keys());
  for (const [index, stage] of stages.entries()) {
    for (const tool of stage.tools ?? []) {
      if (names.has(tool.name)) {
        throw new BatonError(
          'CONFIG_INVALID',
          `${where}: "context[${index}]" (${stage.name}) brings the tool "${tool.name}", but the agent has a tool of that name`,
          { details: { field: `context[${index}]` }, hint: 'Rename the stage’s tool (toolName) or yours' },
        );
      }
      names.add(tool.name);
      added.push(tool);
    }
  }
  return added;
}

/**
 * The pipeline of one run: `RunOptions.context` when given (it replaces the agent's), else the agent's,
 * else none. A run-level stage that needs a tool (the scratchpad) needs the agent to have it already:
 * tools are part of the agent (its JSON schemas, its config hash), not of one run.
 */
export function pipelineOf(
  agentName: string,
  agentStages: readonly ContextStage[] | undefined,
  runStages: unknown,
  tools: ReadonlyMap<string, AnyTool>,
): readonly ContextStage[] | undefined {
  if (runStages === undefined) return agentStages && agentStages.length > 0 ? agentStages : undefined;
  const where = `run(agent "${agentName}")`;
  const stages = checkStages(runStages, where, 'context');
  for (const [index, stage] of stages.entries()) {
    for (const tool of stage.tools ?? []) {
      if (!tools.has(tool.name)) {
        throw new BatonError(
          'CONFIG_INVALID',
          `${where}: "context[${index}]" (${stage.name}) needs the tool "${tool.name}", which the agent does not have`,
          {
            details: { field: `context[${index}]` },
            hint: 'Declare this stage in defineAgent({ context }) so the agent gets its tool',
          },
        );
      }
    }
  }
  return stages.length > 0 ? stages : undefined;
}

/** The pipeline as plain JSON, for the agent's configuration hash. */
export function describeStages(stages: readonly ContextStage[]): { name: string; settings: unknown }[] {
  return stages.map((stage) => ({ name: stage.name, settings: stage.settings }));
}
