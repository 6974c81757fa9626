// @baton/examples: the team catalogue and the pieces the examples and the CLI share. Tracing (which
// loads the OpenTelemetry SDK) is a separate entry: `@baton/examples/tracing`.
export * from './report/index.js';
export { batonCommand, isMain, runExample } from './support/main.js';
export * from './teams/index.js';
