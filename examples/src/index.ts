// @baton/examples: the runnable examples' shared entry point. The team catalogue and the report live
// in @baton/teams, the tracing setup in @baton/telemetry; they are re-exported here for the examples.
export * from '@baton/teams';
export { batonCommand, isMain, runExample } from './support/main.js';
