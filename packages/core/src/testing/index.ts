// The local HTTP server speaking the OpenAI and Anthropic wire formats (listed in provider-server/index.ts).

// Every one-change tampering of an audit log, and a runner that checks verification names each (r7 uses it).
export {
  type AuditTampering,
  type AuditTamperKind,
  type AuditTamperOptions,
  type AuditTamperReport,
  auditTamperings,
  type CleanAuditLog,
  runAuditTamperings,
  sampleAuditEvents,
} from './audit-tamper.js';
// The conformance suites every journal, approval and cache store implementation must pass.
export * from './conformance/index.js';
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
// How late timers fire right now, for margins that must hold on a loaded machine.
export { timerLag } from './timing.js';
export { toolContext } from './tool-context.js';
// The providers' wire rules (what OpenAI and Anthropic reject with a 400), checked on request bodies.
export { checkAnthropicWire, checkOpenAIWire, checkWireRules, type WireViolation } from './wire-rules.js';
