export {
  describeTeamEvent,
  printTeamProgress,
  type TeamProgressOptions,
  type TeamRunEvent,
} from './progress.js';
export { type Citation, citationLine, type TeamReport, teamReport } from './report.js';
export { formatTeamResult, modelSetup, type SummaryOptions } from './summary.js';
export { type Column, formatCost, formatDuration, formatTokens, memberTable, renderTable } from './table.js';
