/**
 * Span attribute names. The GenAI names follow the OpenTelemetry GenAI semantic conventions; they are
 * defined here rather than imported because the semconv package marks them deprecated while the
 * conventions are still in development.
 */
export const GenAI = {
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  REQUEST_MODEL: 'gen_ai.request.model',
  REQUEST_MAX_TOKENS: 'gen_ai.request.max_tokens',
  REQUEST_TEMPERATURE: 'gen_ai.request.temperature',
  RESPONSE_MODEL: 'gen_ai.response.model',
  RESPONSE_ID: 'gen_ai.response.id',
  RESPONSE_FINISH_REASONS: 'gen_ai.response.finish_reasons',
  USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  AGENT_NAME: 'gen_ai.agent.name',
  AGENT_DESCRIPTION: 'gen_ai.agent.description',
  CONVERSATION_ID: 'gen_ai.conversation.id',
  TOOL_NAME: 'gen_ai.tool.name',
  TOOL_CALL_ID: 'gen_ai.tool.call.id',
  TOOL_TYPE: 'gen_ai.tool.type',
  TOOL_DESCRIPTION: 'gen_ai.tool.description',
  INPUT_MESSAGES: 'gen_ai.input.messages',
  OUTPUT_MESSAGES: 'gen_ai.output.messages',
  TOOL_CALL_ARGUMENTS: 'gen_ai.tool.call.arguments',
  TOOL_CALL_RESULT: 'gen_ai.tool.call.result',
} as const;

export const GenAIOperation = {
  CHAT: 'chat',
  EXECUTE_TOOL: 'execute_tool',
  INVOKE_AGENT: 'invoke_agent',
  INVOKE_WORKFLOW: 'invoke_workflow',
} as const;

export const BatonAttr = {
  RUN_ID: 'baton.run.id',
  PARENT_RUN_ID: 'baton.run.parent_id',
  RUN_STATUS: 'baton.run.status',
  STEP: 'baton.step',
  STEPS: 'baton.steps',
  COST_USD: 'baton.cost_usd',
  ERROR_CODE: 'baton.error.code',
  TOOL_OK: 'baton.tool.ok',
  TOOL_RISK: 'baton.tool.risk',
  TOOL_ATTEMPTS: 'baton.tool.attempts',
  TOOL_CACHED: 'baton.tool.cached',
  TOOL_TRUNCATED: 'baton.tool.truncated',
  FALLBACK_FROM: 'baton.model.fallback_from',
  USER_ID: 'baton.user.id',
  TENANT_ID: 'baton.tenant.id',
  TEAM: 'baton.team',
  /** The agent's or team's bundle hash (`sha256:...`): the version that ran. */
  BUNDLE: 'baton.bundle',
  STOP_REASON: 'baton.stop_reason',
  ROUNDS: 'baton.rounds',
  /** On a `chat` span: tokens of the whole transcript, and of what the context pipeline sent instead. */
  CONTEXT_TOKENS_BEFORE: 'baton.context.tokens_before',
  CONTEXT_TOKENS_AFTER: 'baton.context.tokens_after',
  /** On a `chat` span: the context stages that changed what was sent, in order. */
  CONTEXT_STAGES: 'baton.context.stages',
  /** On a `chat` span: the call wrote a context summary (the summarizer's own call). */
  CONTEXT_SUMMARY: 'baton.context.summary',
  /** On `chat` and `execute_tool` spans of cached calls: whether the answer came from the cache. */
  CACHE_HIT: 'baton.cache.hit',
  /** On a `chat` span served from the cache: the tokens the cached response had cost. */
  CACHE_SAVED_TOKENS: 'baton.cache.saved_tokens',
  /** On an `invoke_agent` span: long-term memories put into the context, their tokens, how many untrusted. */
  MEMORY_RECALLED: 'baton.memory.recalled',
  MEMORY_RECALLED_TOKENS: 'baton.memory.recalled_tokens',
  MEMORY_UNTRUSTED: 'baton.memory.untrusted',
  /** On an `invoke_agent` span: memories the run saved at its end (episode, summary). */
  MEMORY_SAVED: 'baton.memory.saved',
  /** The memory store's adapter (`memory`, `nats-kv`, `postgres`). */
  MEMORY_BACKEND: 'baton.memory.backend',
  /**
   * Prefixes of a run's budget on its `invoke_agent` or `invoke_workflow` span, written when it ends:
   * `baton.budget.limit.maxTokens` beside `baton.budget.used.tokens` (see `budgetAttributes`).
   */
  BUDGET_LIMIT_PREFIX: 'baton.budget.limit.',
  BUDGET_USED_PREFIX: 'baton.budget.used.',
} as const;
