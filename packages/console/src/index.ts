// @baton/console — the Baton web console: runs, waterfalls, approvals and metrics in a browser (baton view).

export { consoleApp } from './app.js';
export { checkEditedArgs, type DecisionBody, decide, forBrowser } from './approvals.js';
export {
  type EvalReport,
  evalReports,
  type MetricBucket,
  type MetricPoint,
  type Metrics,
  metricsOf,
} from './insights.js';
export { REDACTED, type RedactOptions, redact, redactText } from './redact.js';
export {
  type AgentRow,
  type HandoffRow,
  type RunDetail,
  runDetail,
  type ToolCallRow,
  type WaterfallSpan,
} from './run-detail.js';
export { type ActiveRun, RunData } from './runs.js';
export { type ConsoleServer, type ServeConsoleOptions, serveConsole } from './server.js';
export { defaultUiDir } from './static.js';
export type {
  ConsoleOptions,
  ConsoleRunner,
  ConsoleTeam,
  RunSource,
  RunSummary,
  StartedRun,
  StartRunRequest,
} from './types.js';
