export {
  type ScriptedModel,
  type ScriptedModelOptions,
  type ScriptedReply,
  type ScriptedToolCall,
  type ScriptedTurn,
  type ScriptFunction,
  scriptedModel,
} from './scripted-model.js';
