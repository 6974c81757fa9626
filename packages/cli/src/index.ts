// @baton/cli: the `baton` command, and its pieces for reuse and tests.

export { memberTable, renderTable } from '@baton/teams';
export {
  JsonlSpanExporter,
  readRunIndex,
  readTrace,
  resolveTrace,
  type SpanRecord,
  startTracing,
} from '@baton/telemetry';
export { type AgentSummary, agentsCommand, summarize } from './commands/agents.js';
export { type NatsConfigFlags, natsConfigCommand } from './commands/nats-config.js';
export { type RunFlags, runCommand } from './commands/run.js';
export { traceCommand } from './commands/trace.js';
export { workerCommand } from './commands/worker.js';
export { CliError, EXIT, formatCliError, toCliError } from './errors.js';
export { type Io, processIo } from './io.js';
export { type LoadedTeam, loadTeam } from './load-team.js';
export { createProgram } from './program.js';
export { describeSpan, renderTraceTree, type TraceTreeOptions } from './trace-tree.js';
