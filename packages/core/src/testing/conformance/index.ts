export { type ApprovalsCase, approvalsConformance } from './approvals.js';
export { type AuditCase, auditConformance } from './audit.js';
export { type JournalCase, journalConformance } from './journal.js';
