// @baton/console — the Baton web console: runs, waterfalls, approvals and metrics in a browser (baton view).

export { consoleApp } from './app.js';
export { checkEditedArgs, type DecisionBody, decide, forBrowser } from './approvals.js';
export { evalReports, metricsOf } from './insights.js';
export { REDACTED, type RedactOptions, redact, redactText } from './redact.js';
export { runDetail } from './run-detail.js';
export { type ActiveRun, RunData } from './runs.js';
export { type ConsoleServer, type ServeConsoleOptions, serveConsole } from './server.js';
export { defaultUiDir } from './static.js';
export type { ConsoleOptions, ConsoleRunner, StartedRun, StartRunRequest } from './types.js';
export type * from './wire.js';
