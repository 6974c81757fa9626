// The local HTTP server speaking the OpenAI and Anthropic wire formats (listed in provider-server/index.ts).
export * from './provider-server/index.js';
export {
  type ScriptedModel,
  type ScriptedModelOptions,
  type ScriptedReply,
  type ScriptedToolCall,
  type ScriptedTurn,
  type ScriptFunction,
  scriptedModel,
} from './scripted-model.js';
