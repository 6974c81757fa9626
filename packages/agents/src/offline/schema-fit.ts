import type { JsonSchema } from '@baton/core';

/** Finds a value for a property the answer does not have (by property name). */
export type Lookup = (key: string) => unknown;

type Node = Record<string, unknown>;

const FALLBACK_TEXT = 'Not available (Baton offline model)';

/**
 * Shapes `value` to a JSON Schema: keeps what fits, converts what can be converted (a number to a
 * string, "approve" to `true`), fills required properties from `lookup` or with the schema's own
 * defaults, clips strings and arrays to their bounds and clamps numbers. The offline model uses it so
 * that its final answer is valid JSON for whatever response schema an agent declares.
 *
 * Covers the JSON Schema that zod and the providers produce: type (and type lists), properties,
 * required, items, enum, const, anyOf/oneOf/allOf, $ref into $defs/definitions, min/max bounds and
 * defaults. It cannot satisfy `pattern` or `format` by construction: values it keeps are left as they are.
 */
export function fitToSchema(schema: JsonSchema, value: unknown, lookup: Lookup = () => undefined): unknown {
  return new Fitter(schema, lookup).fit(schema, value, 0);
}

class Fitter {
  constructor(
    private readonly root: Node,
    private readonly lookup: Lookup,
  ) {}

  fit(raw: unknown, value: unknown, depth: number): unknown {
    const node = this.resolve(raw);
    if (depth > 32) return value ?? null;
    if ('const' in node) return node.const;
    if (Array.isArray(node.enum)) return pickEnum(node.enum, value);
    const options = (node.anyOf ?? node.oneOf) as unknown[] | undefined;
    if (Array.isArray(options) && options.length > 0) return this.fitOption(options, value, depth);
    const type = chooseType(node.type, value);
    switch (type) {
      case 'object':
        return this.fitObject(node, value, depth);
      case 'array':
        return this.fitArray(node, value, depth);
      case 'string':
        return fitString(node, value);
      case 'number':
      case 'integer':
        return fitNumber(node, value, type === 'integer');
      case 'boolean':
        return value === undefined
          ? typeof node.default === 'boolean'
            ? node.default
            : false
          : toBoolean(value);
      case 'null':
        return null;
      default:
        return value === undefined ? ('default' in node ? node.default : null) : value;
    }
  }

  private fitOption(options: unknown[], value: unknown, depth: number): unknown {
    const nodes = options.map((option) => this.resolve(option));
    if (value === null && nodes.some((node) => node.type === 'null')) return null;
    const matching = nodes.find((node) => node.type !== 'null' && accepts(node, value));
    const chosen = matching ?? nodes.find((node) => node.type !== 'null') ?? (nodes[0] as Node);
    return this.fit(chosen, value, depth + 1);
  }

  private fitObject(node: Node, value: unknown, depth: number): Record<string, unknown> {
    const source = isRecord(value) ? value : {};
    const properties = (isRecord(node.properties) ? node.properties : {}) as Record<string, unknown>;
    const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    const result: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(properties)) {
      let current = source[key];
      if (current === undefined) current = this.lookup(key);
      if (current !== undefined) result[key] = this.fit(schema, current, depth + 1);
      else if (required.has(key)) result[key] = this.fit(schema, undefined, depth + 1);
    }
    for (const key of required) {
      if (!(key in result)) result[key] = source[key] ?? this.lookup(key) ?? FALLBACK_TEXT;
    }
    if (Object.keys(properties).length === 0 && node.additionalProperties !== false) return { ...source };
    return result;
  }

  private fitArray(node: Node, value: unknown, depth: number): unknown[] {
    const items = (
      value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]
    ) as unknown[];
    const itemSchema = isRecord(node.items) ? node.items : {};
    let result = items.map((item) => this.fit(itemSchema, item, depth + 1));
    if (node.uniqueItems === true) {
      const seen = new Set<string>();
      result = result.filter((item) => {
        const key = JSON.stringify(item);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }
    if (typeof node.maxItems === 'number') result = result.slice(0, node.maxItems);
    const minItems = typeof node.minItems === 'number' ? node.minItems : 0;
    while (result.length < minItems) result.push(this.fit(itemSchema, undefined, depth + 1));
    return result;
  }

  private resolve(raw: unknown): Node {
    let node = isRecord(raw) ? raw : {};
    for (let hops = 0; typeof node.$ref === 'string' && hops < 16; hops++) {
      const ref = node.$ref as string;
      const { $ref: _ref, ...rest } = node;
      node = { ...this.pointer(ref), ...rest };
    }
    if (Array.isArray(node.allOf)) {
      const { allOf, ...rest } = node;
      node = (allOf as unknown[]).map((part) => this.resolve(part)).reduce(mergeSchemas, rest);
    }
    return node;
  }

  private pointer(ref: string): Node {
    if (!ref.startsWith('#')) return {};
    let target: unknown = this.root;
    for (const part of ref.slice(1).split('/').filter(Boolean)) {
      if (!isRecord(target)) return {};
      target = target[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return isRecord(target) ? target : {};
  }
}

function mergeSchemas(a: Node, b: Node): Node {
  const merged: Node = { ...a, ...b };
  if (isRecord(a.properties) || isRecord(b.properties)) {
    merged.properties = { ...(a.properties as Node | undefined), ...(b.properties as Node | undefined) };
  }
  if (Array.isArray(a.required) || Array.isArray(b.required)) {
    merged.required = [
      ...new Set([...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])]),
    ];
  }
  return merged;
}

function chooseType(type: unknown, value: unknown): string | undefined {
  if (typeof type === 'string') return type;
  if (!Array.isArray(type)) return undefined;
  const types = type as string[];
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  if (types.includes(actual)) return actual;
  if (actual === 'number' && types.includes('integer')) return 'integer';
  return types.find((t) => t !== 'null') ?? types[0];
}

function accepts(node: Node, value: unknown): boolean {
  if (value === undefined) return false;
  if ('const' in node) return node.const === value;
  if (Array.isArray(node.enum)) return node.enum.includes(value);
  const types = Array.isArray(node.type) ? (node.type as string[]) : node.type ? [node.type as string] : [];
  if (types.length === 0) return true;
  return types.some((type) => {
    if (type === 'array') return Array.isArray(value);
    if (type === 'object') return isRecord(value);
    if (type === 'integer') return Number.isInteger(value);
    if (type === 'null') return value === null;
    return typeof value === type;
  });
}

function fitString(node: Node, value: unknown): string {
  let text =
    value === undefined ? (typeof node.default === 'string' ? node.default : FALLBACK_TEXT) : toText(value);
  if (typeof node.maxLength === 'number' && text.length > node.maxLength) {
    text = text.slice(0, Math.max(0, node.maxLength - 1)).trimEnd();
    if (node.maxLength > 1) text = `${text}…`;
    text = text.slice(0, node.maxLength);
  }
  if (typeof node.minLength === 'number' && text.length < node.minLength) {
    text = (text === '' ? FALLBACK_TEXT : text).padEnd(node.minLength, '.');
  }
  return text;
}

function fitNumber(node: Node, value: unknown, integer: boolean): number {
  let number = toNumber(value);
  if (number === undefined) number = typeof node.default === 'number' ? node.default : 0;
  const step = integer ? 1 : 1e-6;
  if (typeof node.minimum === 'number') number = Math.max(number, node.minimum);
  if (typeof node.exclusiveMinimum === 'number') number = Math.max(number, node.exclusiveMinimum + step);
  if (typeof node.maximum === 'number') number = Math.min(number, node.maximum);
  if (typeof node.exclusiveMaximum === 'number') number = Math.min(number, node.exclusiveMaximum - step);
  if (integer) {
    number = Math.round(number);
    if (typeof node.maximum === 'number' && number > node.maximum) number = Math.floor(node.maximum);
    if (typeof node.minimum === 'number' && number < node.minimum) number = Math.ceil(node.minimum);
  }
  return number;
}

const YES = /^(true|yes|y|approve[ds]?|accept(ed)?|pass(ed)?|ok|done|complete[d]?|final)$/i;
const YES_OPTION = /approve|accept|yes|pass|true|ok|done|complete|final|stop|win/i;
const NO_OPTION = /revise|reject|no|fail|false|continue|retry|redo|again/i;

function pickEnum(options: readonly unknown[], value: unknown): unknown {
  if (options.includes(value)) return value;
  if (typeof value === 'boolean') {
    const wanted = value ? YES_OPTION : NO_OPTION;
    return options.find((option) => typeof option === 'string' && wanted.test(option)) ?? options[0];
  }
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    const exact = options.find((option) => typeof option === 'string' && option.toLowerCase() === lower);
    if (exact !== undefined) return exact;
    const near = options.find(
      (option) =>
        typeof option === 'string' &&
        (lower.includes(option.toLowerCase()) || option.toLowerCase().includes(lower)),
    );
    if (near !== undefined) return near;
    return pickEnum(options, YES.test(value));
  }
  return options[0];
}

function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(toText).join('\n');
  if (isRecord(value)) {
    for (const key of ['text', 'summary', 'content', 'body', 'claim', 'problem', 'title']) {
      if (typeof value[key] === 'string') return value[key] as string;
    }
  }
  return JSON.stringify(value) ?? '';
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const parsed = Number.parseFloat(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  if (Array.isArray(value)) return value.length;
  return undefined;
}

function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return YES.test(value.trim());
  if (isRecord(value) && typeof value.decision === 'string') return YES.test(value.decision);
  return Boolean(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
