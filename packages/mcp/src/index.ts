export { connectMcp, type McpServerEvent, type McpServerHandle, mcpServer } from './client.js';
export type {
  McpHttpTransport,
  McpReconnectPolicy,
  McpServerConfig,
  McpStdioTransport,
  McpToolOverride,
  McpTransportConfig,
} from './config.js';
export type { McpConnectionState } from './connection.js';
export { batonToolName } from './names.js';
export type { McpHttpOptions } from './serve/http.js';
export { type McpServing, type ServeMcpOptions, serveMcp } from './serve/index.js';
export type { McpServable, ServedToolOptions, TeamLike, TeamLikeResult } from './serve/target.js';
export { riskOf, type SkippedMcpTool } from './tools.js';
export { type McpAgent, withMcpTools } from './with-tools.js';
