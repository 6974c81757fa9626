// @baton/teams: the canonical team compositions of Baton's specialists (the catalogue the CLI and the
// gateway run by name) and the text report of a team's result.
export * from './report/index.js';
export * from './teams/index.js';
