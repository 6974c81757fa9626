import type { JsonSchema } from '@baton/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';

// ajv-formats is CommonJS with a default export; under NodeNext the plugin sits on `.default` or is the module.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv | Ajv2020) => void;

export type Arguments = Record<string, unknown>;

/**
 * Compiles tool input schemas. One compiler per tool listing: ajv keeps every schema it compiled, so a
 * server that changes its tool list often would otherwise grow this process without bound.
 */
export class SchemaCompiler {
  private draft7: Ajv | undefined;
  private draft2020: Ajv2020 | undefined;

  /**
   * The zod schema the tool's arguments are checked with before anything is sent to the server, and the
   * JSON Schema the model is shown. Throws when ajv cannot compile the server's schema.
   */
  compile(inputSchema: Record<string, unknown>): { input: z.ZodType<Arguments>; parameters: JsonSchema } {
    const { $schema, ...parameters } = inputSchema;
    // Servers built on the SDK send draft-07 or 2020-12 (zod's default); ajv needs the matching dialect.
    const modern = typeof $schema === 'string' && /2019-09|2020-12/.test($schema);
    const validate = (modern ? this.ajv2020() : this.ajv7()).compile(parameters);
    // `{ type: 'object' }` alone means the same as with no properties, but some providers want the key.
    const shown = parameters.properties === undefined ? { ...parameters, properties: {} } : parameters;
    return { input: argumentsSchema(validate), parameters: shown as JsonSchema };
  }

  private ajv7(): Ajv {
    if (!this.draft7) {
      this.draft7 = new Ajv(AJV_OPTIONS);
      addFormats(this.draft7);
    }
    return this.draft7;
  }

  private ajv2020(): Ajv2020 {
    if (!this.draft2020) {
      this.draft2020 = new Ajv2020(AJV_OPTIONS);
      addFormats(this.draft2020);
    }
    return this.draft2020;
  }
}

// Lenient about the schema itself (servers use keywords ajv does not know, or none), strict about values:
// no coercion and no defaults written into the arguments, so what was checked is what is sent.
const AJV_OPTIONS = {
  strict: false,
  allErrors: true,
  validateSchema: false,
  validateFormats: true,
  coerceTypes: false,
  useDefaults: false,
} as const;

/** A zod schema that accepts a JSON object when the compiled JSON Schema does, with ajv's errors as issues. */
function argumentsSchema(validate: ValidateFunction): z.ZodType<Arguments> {
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    if (validate(value)) return;
    for (const error of (validate.errors ?? []).slice(0, 20)) {
      ctx.addIssue({ code: 'custom', path: pathOf(error), message: messageOf(error) });
    }
  });
}

function pathOf(error: ErrorObject): (string | number)[] {
  const path: (string | number)[] = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    path.push(params.missingProperty);
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    path.push(params.additionalProperty);
  }
  return path;
}

function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'required';
    case 'additionalProperties':
      return 'not an accepted argument';
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return error.message ?? `fails "${error.keyword}"`;
  }
}
