/**
 * Allow-list validators on tool arguments: the values at a path into a tool's arguments must be among
 * the allowed ones (recipients in a list, a region among three, a table among the public ones). The
 * guard stands at `toolInput`, before the tool runs, and trips naming the tool, the path and the value.
 */
import { BatonError } from '../errors.js';
import { type Guard, type GuardContext, type GuardStage, type GuardVerdict, PASS } from './types.js';
import {
  formatPath,
  MAX_DEPTH,
  messageOf,
  parsePath,
  preview,
  TooDeepError,
  type ValuePath,
  valuesAt,
} from './walk.js';

type Scalar = string | number | boolean;

export interface ToolArgumentGuardOptions {
  /** The tool (or tools) whose arguments are checked; other tools pass. */
  tool: string | readonly string[];
  /**
   * Where the value is in the arguments: `to`, `message.recipients`, `rows[*].table`, or segments
   * (`['message', 'to']`). Arrays on the way, and at the end, are checked element by element.
   */
  path: string | readonly (string | number)[];
  /** Trip when nothing is at the path (default false: no value, nothing to check). */
  required?: boolean;
  /** Default: the kind of guard (`allow-list`, `read-only-sql`). */
  name?: string;
}

export interface AllowListGuardOptions extends ToolArgumentGuardOptions {
  /** The allowed values. */
  values: readonly Scalar[] | ReadonlySet<Scalar>;
  /** Compare strings without regard to case (e-mail addresses, hostnames). Default false. */
  ignoreCase?: boolean;
  /** Strings are trimmed before comparing (default true). */
  trim?: boolean;
}

/** The tools a guard applies to, checked at creation. */
export function toolNames(options: ToolArgumentGuardOptions, guard: string): Set<string> {
  const tools = typeof options.tool === 'string' ? [options.tool] : options.tool;
  if (
    !Array.isArray(tools) ||
    tools.length === 0 ||
    tools.some((tool) => typeof tool !== 'string' || tool === '')
  ) {
    throw new BatonError('CONFIG_INVALID', `${guard}: "tool" must name one tool or a list of tools`);
  }
  const path = parsePath(options.path);
  if (path.length === 0) throw new BatonError('CONFIG_INVALID', `${guard}: "path" is empty`);
  return new Set(tools);
}

/** A value at a guard's path in a tool's arguments; the path is formatted only for a reason. */
export interface ArgumentValue {
  value: unknown;
  path: ValuePath;
}

/** The values a tool-argument guard checks (never undefined ones): `undefined` when the call is not its concern. */
export function argumentsToCheck(
  tools: ReadonlySet<string>,
  value: unknown,
  context: GuardContext | undefined,
  /** The guard's path, parsed once at creation. */
  path: readonly (string | number)[],
): ArgumentValue[] | { trip: string } | undefined {
  if (context?.tool === undefined || !tools.has(context.tool)) return undefined;
  if (context.stage !== undefined && context.stage !== 'toolInput') return undefined;
  try {
    const found = valuesAt(value, path);
    // Missing values are not checked: filtered in place (most calls find one value, or none).
    let kept = 0;
    for (const item of found) if (item.value !== undefined) found[kept++] = item;
    found.length = kept;
    return found;
  } catch (error) {
    return {
      trip:
        error instanceof TooDeepError ? `arguments nested deeper than ${MAX_DEPTH} levels` : messageOf(error),
    };
  }
}

const STAGES: readonly GuardStage[] = Object.freeze(['toolInput']);

/**
 * A guard that lets a tool call through only when every value at `path` in its arguments is allowed.
 * `allowListGuard({ tool: 'send_email', path: 'to', values: ['ops@example.com'], ignoreCase: true })`
 * checks `{ to: 'ops@example.com' }` and every element of `{ to: ['a@x.com', 'b@y.com'] }`. Values that
 * are not strings, numbers or booleans (an object where a recipient should be) are not allowed.
 */
export function allowListGuard(options: AllowListGuardOptions): Guard {
  const name = options.name ?? 'allow-list';
  const tools = toolNames(options, 'allowListGuard');
  const ignoreCase = options.ignoreCase ?? false;
  const trim = options.trim ?? true;
  const normalize = (value: Scalar): Scalar => {
    if (typeof value !== 'string') return value;
    const trimmed = trim ? value.trim() : value;
    return ignoreCase ? trimmed.toLowerCase() : trimmed;
  };
  const source = options.values as Iterable<Scalar> | undefined;
  if (!source || typeof (source as Iterable<Scalar>)[Symbol.iterator] !== 'function') {
    throw new BatonError('CONFIG_INVALID', 'allowListGuard: "values" must be an array or a Set');
  }
  const allowed = new Set<Scalar>([...source].map(normalize));
  const pathText = typeof options.path === 'string' ? options.path : formatPath(options.path);
  const path = parsePath(options.path);
  return {
    name,
    stages: STAGES,
    check(value: unknown, context: GuardContext): GuardVerdict {
      const found = argumentsToCheck(tools, value, context, path);
      if (found === undefined) return PASS;
      const tool = context.tool as string;
      if ('trip' in found) return { action: 'trip', reason: `${name}: tool "${tool}": ${found.trip}` };
      if (found.length === 0) {
        if (!options.required) return PASS;
        return {
          action: 'trip',
          reason: `${name}: tool "${tool}" was called without "${pathText}"`,
          findings: [{ kind: 'allow_list', note: `missing ${pathText}` }],
        };
      }
      for (const item of found) {
        const scalar =
          typeof item.value === 'string' || typeof item.value === 'number' || typeof item.value === 'boolean';
        if (scalar && allowed.has(normalize(item.value as Scalar))) continue;
        const why = scalar ? 'is not in the allow-list' : 'is not a plain value';
        const at = formatPath(item.path);
        return {
          action: 'trip',
          reason: `${name}: tool "${tool}" argument "${at}" = ${preview(item.value)} ${why}`,
          findings: [{ kind: 'allow_list', note: `${at} ${why}` }],
        };
      }
      return PASS;
    },
  };
}
