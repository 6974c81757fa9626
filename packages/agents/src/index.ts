// Handoff contracts of the research team, their schemas and types.
export {
  type Draft,
  type DraftSection,
  draftSchema,
  draftSectionSchema,
  type Finding,
  findingSchema,
  type ResearchFindings,
  type ResearchRequest,
  type ReviewIssue,
  type ReviewRequest,
  type Revision,
  researchContract,
  researchFindingsSchema,
  researchRequestSchema,
  reviewContract,
  reviewIssueSchema,
  reviewRequestSchema,
  revisionSchema,
  type SourceRef,
  sourceRefSchema,
  type Verdict,
  verdictSchema,
  type WriteRequest,
  writeContract,
  writeRequestSchema,
} from './contracts.js';
// Documents to research: the bundled corpus, your own directory, or documents in memory.
export { type Corpus, type CorpusSearchOptions, createCorpus, type SearchHit } from './corpus/corpus.js';
export {
  type CorpusDocument,
  type CorpusDocumentInput,
  corpusDocumentSchema,
  parseCorpusMarkdown,
} from './corpus/document.js';
export { BUNDLED_CORPUS_URL, bundledCorpus, loadCorpusDirectory } from './corpus/load.js';
// Deterministic quality checks: the review rubric and the prose critique.
export { type CritiqueOptions, critiqueText, DEFAULT_CRITIQUE } from './critique.js';
export { type ModelForRoleOptions, modelForRole } from './model-for-role.js';
// The offline model: rule-based, not an LLM; runs every team with no API key.
export {
  OFFLINE_MODEL_VERSION,
  OFFLINE_ROLES,
  type OfflineModelOptions,
  type OfflineRole,
  offlineModel,
} from './offline/model.js';
export { fitToSchema } from './offline/schema-fit.js';
export { OFFLINE_LABEL } from './offline/turn.js';
export { inlineCitations, renderDraft } from './render.js';
export {
  DEFAULT_RUBRIC,
  RUBRIC_RULES,
  type RubricOptions,
  type RubricRule,
  reviewDraft,
  uncoveredFindings,
  unknownCitations,
  verdictFrom,
} from './rubric.js';
export type { SpecialistOptions } from './specialists/options.js';
// The specialists.
export { RESEARCHER_LIMITS, type ResearcherOptions, researcher } from './specialists/researcher.js';
export { REVIEWER_LIMITS, type ReviewerOptions, reviewer } from './specialists/reviewer.js';
export { WRITER_LIMITS, type WriterOptions, writer } from './specialists/writer.js';
// Their tools.
export {
  READ_DOCUMENT,
  type ReadDocumentOutput,
  readDocumentTool,
  SEARCH_CORPUS,
  type SearchCorpusInput,
  type SearchCorpusOutput,
  searchCorpusTool,
} from './tools/corpus-tools.js';
export {
  WEB_SEARCH,
  type WebSearchOptions,
  type WebSearchProvider,
  type WebSearchResult,
  type WebSearchToolOptions,
  type WebSearchToolOutput,
  webSearchTool,
} from './tools/web-search.js';
