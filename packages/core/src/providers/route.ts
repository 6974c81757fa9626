import { BatonError } from '../errors.js';
import type { Model, ModelRequest, ModelResponse, ModelStreamEvent, StepRole } from '../model/types.js';

export type RouteTable = { [role in StepRole]?: Model } & {
  /** Serves requests with no role, or a role with no model of its own. */
  default: Model;
};

export interface RoutedModel extends Model {
  /** The model a request with this role goes to. */
  select(role: StepRole | undefined): Model;
}

const ROLES: readonly StepRole[] = ['planning', 'tool-selection', 'extraction', 'synthesis'];

/**
 * Picks a model per step role (`request.role`): typically a strong model for `planning` and `synthesis`,
 * a cheap one for `tool-selection` and `extraction`. It reports the default model's id and provider;
 * each response's `servedBy` names the model that answered.
 */
export function route(table: RouteTable): RoutedModel {
  if (typeof table !== 'object' || table === null || !isModel(table.default)) {
    throw new BatonError('CONFIG_INVALID', 'route: "default" must be a Model');
  }
  for (const key of Object.keys(table)) {
    if (key === 'default') continue;
    if (!(ROLES as readonly string[]).includes(key)) {
      throw new BatonError(
        'CONFIG_INVALID',
        `route: unknown role "${key}" (expected ${ROLES.join(', ')} or default)`,
      );
    }
    if (table[key as StepRole] !== undefined && !isModel(table[key as StepRole])) {
      throw new BatonError('CONFIG_INVALID', `route: "${key}" must be a Model`);
    }
  }
  const select = (role: StepRole | undefined): Model => (role && table[role]) || table.default;
  return {
    id: table.default.id,
    provider: table.default.provider,
    select,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      const model = select(request.role);
      return served(await model.generate(request), model);
    },
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      const model = select(request.role);
      for await (const event of model.stream(request)) {
        yield event.type === 'response' ? { ...event, response: served(event.response, model) } : event;
      }
    },
  };
}

function served(response: ModelResponse, model: Model): ModelResponse {
  if (response.servedBy) return response;
  return { ...response, servedBy: { model: model.id, provider: model.provider } };
}

function isModel(value: unknown): value is Model {
  const model = value as Partial<Model> | undefined;
  return typeof model?.generate === 'function' && typeof model.stream === 'function';
}
