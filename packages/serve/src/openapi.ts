import { z } from 'zod';
import {
  acceptedSchema,
  agentsBodySchema,
  approvalBodySchema,
  approvalListQuerySchema,
  approvalsBodySchema,
  approveBodySchema,
  denyBodySchema,
  editBodySchema,
  errorBodySchema,
  healthSchema,
  readySchema,
  runListQuerySchema,
  runRequestSchema,
  runsBodySchema,
  runViewSchema,
  teamsBodySchema,
} from './schemas.js';

type Schema = z.ZodType;
type JsonSchema = Record<string, unknown>;

/** JSON Schema (2020-12, which OpenAPI 3.1 uses as is) of a zod schema, as a request or a response. */
function jsonSchema(schema: Schema, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const json = (schema: Schema, description: string) => ({
  description,
  content: { 'application/json': { schema: jsonSchema(schema, 'output') } },
});
const error = (description: string) => json(errorBodySchema, description);
const body = (schema: Schema) => ({
  required: true,
  content: { 'application/json': { schema: jsonSchema(schema, 'input') } },
});
const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});

/** Every field of a query schema, as optional query parameters. */
const queryParams = (schema: Schema) =>
  Object.entries((jsonSchema(schema, 'input').properties ?? {}) as Record<string, JsonSchema>).map(
    ([name, property]) => ({ name, in: 'query', required: false, schema: property }),
  );

const AUTH_ERRORS = {
  '401': error('UNAUTHORIZED: no API key, or an unknown one'),
  '429': error('RATE_LIMITED: the key spent its allowance (see Retry-After)'),
};

function decision(verb: string, schema: Schema, summary: string) {
  return {
    post: {
      summary,
      operationId: `${verb}Approval`,
      tags: ['approvals'],
      parameters: [
        pathParam('runId', 'The run the call belongs to'),
        pathParam('callId', 'The tool call id'),
      ],
      requestBody: body(schema),
      responses: {
        '200': json(approvalBodySchema, 'The decided record'),
        '404': error('APPROVAL_UNKNOWN'),
        '409': error('APPROVAL_DECIDED: it was decided already (or expired)'),
        '413': error('PAYLOAD_TOO_LARGE'),
        '422': error('INPUT_INVALID'),
        ...AUTH_ERRORS,
      },
    },
  };
}

/** The gateway's OpenAPI 3.1 document, generated from the same zod schemas that check the requests. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Baton gateway',
      version,
      description:
        'Runs Baton teams and agents over HTTP: synchronously, as Server-Sent Events, or as async jobs ' +
        'polled or reported by a signed webhook; and decides the tool calls that wait for a person.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: {
      '/v1/runs': {
        get: {
          summary: "The caller's runs, newest first",
          operationId: 'listRuns',
          tags: ['runs'],
          parameters: queryParams(runListQuerySchema),
          responses: {
            '200': json(runsBodySchema, 'The runs'),
            '422': error('INPUT_INVALID: an unknown status or a bad limit'),
            ...AUTH_ERRORS,
          },
        },
        post: {
          summary: 'Run a team or an agent',
          description:
            'Sync by default (200 with the run once it ends, or pauses for approval). `stream: true` answers ' +
            'with Server-Sent Events: `run.accepted`, one event per run event (`event:` is its type), then ' +
            '`result`. `async: true` answers 202 at once; poll GET /v1/runs/{id} or give a webhook.',
          operationId: 'createRun',
          tags: ['runs'],
          requestBody: body(runRequestSchema),
          responses: {
            '200': {
              ...json(runViewSchema, 'The run (sync), or the event stream (stream: true)'),
              content: {
                'application/json': { schema: jsonSchema(runViewSchema, 'output') },
                'text/event-stream': { schema: { type: 'string' } },
              },
            },
            '202': json(acceptedSchema, 'Accepted (async): poll the url'),
            '400': error('INPUT_INVALID: the body is not JSON'),
            '404': error('TEAM_UNKNOWN or AGENT_UNKNOWN'),
            '409': error('DUPLICATE: a run with this id exists'),
            '413': error('PAYLOAD_TOO_LARGE'),
            '422': error("INPUT_INVALID: the request or the agent's input does not match its schema"),
            ...AUTH_ERRORS,
          },
        },
      },
      '/v1/runs/{id}': {
        get: {
          summary: 'A run: its status, and its result once it ended',
          operationId: 'getRun',
          tags: ['runs'],
          parameters: [pathParam('id', 'The run id')],
          responses: { '200': json(runViewSchema, 'The run'), '404': error('RUN_UNKNOWN'), ...AUTH_ERRORS },
        },
      },
      '/v1/runs/{id}/cancel': {
        post: {
          summary: 'Cancel a run: its AbortSignal fires and everything under it stops',
          operationId: 'cancelRun',
          tags: ['runs'],
          parameters: [pathParam('id', 'The run id')],
          responses: {
            '202': json(runViewSchema, 'Cancel requested (the run ends `aborted`)'),
            '404': error('RUN_UNKNOWN'),
            '409': error('RUN_FINISHED: the run already ended'),
            ...AUTH_ERRORS,
          },
        },
      },
      '/v1/teams': {
        get: {
          summary: 'The teams this gateway runs',
          operationId: 'listTeams',
          tags: ['catalogue'],
          responses: { '200': json(teamsBodySchema, 'The teams'), ...AUTH_ERRORS },
        },
      },
      '/v1/agents': {
        get: {
          summary: 'The agents this gateway runs, with the JSON Schema of their input',
          operationId: 'listAgents',
          tags: ['catalogue'],
          responses: { '200': json(agentsBodySchema, 'The agents'), ...AUTH_ERRORS },
        },
      },
      '/v1/approvals': {
        get: {
          summary: "The tool calls of the caller's tenant waiting for a person (or decided)",
          operationId: 'listApprovals',
          tags: ['approvals'],
          parameters: queryParams(approvalListQuerySchema),
          responses: {
            '200': json(approvalsBodySchema, 'The records, oldest first'),
            '422': error('INPUT_INVALID'),
            ...AUTH_ERRORS,
          },
        },
      },
      '/v1/approvals/{runId}/{callId}': {
        get: {
          summary: 'One call: arguments, preview, expiry, decision',
          operationId: 'getApproval',
          tags: ['approvals'],
          parameters: [pathParam('runId', 'The run'), pathParam('callId', 'The tool call id')],
          responses: {
            '200': json(approvalBodySchema, 'The record'),
            '404': error('APPROVAL_UNKNOWN'),
            ...AUTH_ERRORS,
          },
        },
      },
      '/v1/approvals/{runId}/{callId}/approve': decision('approve', approveBodySchema, 'Approve the call'),
      '/v1/approvals/{runId}/{callId}/deny': decision('deny', denyBodySchema, 'Deny the call'),
      '/v1/approvals/{runId}/{callId}/edit': decision(
        'edit',
        editBodySchema,
        'Approve the call with other arguments (those are what runs and what is recorded)',
      ),
      '/health': {
        get: {
          summary: 'Liveness',
          operationId: 'health',
          tags: ['operations'],
          security: [],
          responses: { '200': json(healthSchema, 'The process serves requests') },
        },
      },
      '/ready': {
        get: {
          summary: 'Readiness: NATS reachable (in NATS mode) and not shutting down',
          operationId: 'ready',
          tags: ['operations'],
          security: [],
          responses: { '200': json(readySchema, 'Ready'), '503': json(readySchema, 'Not ready') },
        },
      },
    },
  };
}
