// A local HTTP server speaking the OpenAI and Anthropic wire formats, for tests of real SDK clients.
export { hashedEmbedding } from './embeddings-wire.js';
export { loadRecording, recordingEvents } from './recording.js';
export { startProviderServer } from './server.js';
export type {
  EmbeddingsReply,
  ErrorReply,
  HangReply,
  ModerationReply,
  ModerationResultReply,
  ProviderReply,
  ProviderServer,
  ProviderServerOptions,
  ReceivedRequest,
  RecordingReply,
  ReplyHandler,
  ReplyToolCall,
  ResetReply,
  StreamInterrupt,
  TurnReply,
  WireFormat,
} from './types.js';
