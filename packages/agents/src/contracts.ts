import { defineHandoff } from '@baton/core';
import { z } from 'zod';

/*
 * The typed handoffs of the research team. A contract is what one agent sends another — data, not a
 * chat transcript — validated when sent and when received. Consistency rules that JSON Schema cannot
 * express (every cited id is a listed source) are zod refinements, so both ends enforce them too.
 */

/** A document id from the corpus, or the URL of a web result. */
const sourceId = z.string().trim().min(1).max(2048);

export const sourceRefSchema = z.object({
  id: sourceId.describe('The document id (or the URL of a web result) to cite'),
  title: z.string().trim().min(1).max(300),
  url: z.string().max(2048).optional().describe('Set for web results'),
});
export type SourceRef = z.output<typeof sourceRefSchema>;

export const findingSchema = z.object({
  claim: z
    .string()
    .trim()
    .min(1)
    .max(1200)
    .describe('One claim, quoted or closely paraphrased from the sources'),
  sources: z.array(sourceId).min(1).max(10).describe('Ids of the sources that support the claim'),
});
export type Finding = z.output<typeof findingSchema>;

export const researchRequestSchema = z.object({
  topic: z.string().trim().min(1).max(500).describe('What to research'),
  questions: z
    .array(z.string().trim().min(1).max(500))
    .max(10)
    .optional()
    .describe('Specific questions to answer'),
});
export type ResearchRequest = z.output<typeof researchRequestSchema>;

export const researchFindingsSchema = z
  .object({
    topic: z.string().trim().min(1).max(500),
    summary: z.string().trim().min(1).max(2000).describe('Two or three sentences on what the sources say'),
    findings: z.array(findingSchema).max(30),
    sources: z.array(sourceRefSchema).max(30).describe('Every source a finding cites, each once'),
  })
  .superRefine((value, context) => checkFindingSources(value.findings, value.sources, context));
export type ResearchFindings = z.output<typeof researchFindingsSchema>;

export const draftSectionSchema = z.object({
  heading: z.string().trim().min(1).max(200),
  body: z.string().trim().min(1).max(8000),
  citations: z.array(sourceId).max(20).describe('Ids of the sources this section relies on'),
});
export type DraftSection = z.output<typeof draftSectionSchema>;

export const draftSchema = z
  .object({
    title: z.string().trim().min(1).max(200),
    summary: z.string().trim().min(1).max(1500),
    sections: z.array(draftSectionSchema).min(1).max(20),
    citations: z.array(sourceId).max(40).describe('Every id cited by a section, each once'),
  })
  .superRefine((draft, context) => {
    const listed = new Set(draft.citations);
    for (const [index, section] of draft.sections.entries()) {
      for (const id of section.citations) {
        if (!listed.has(id)) {
          context.addIssue({
            code: 'custom',
            path: ['sections', index, 'citations'],
            message: `Section "${section.heading}" cites "${id}", which is missing from the draft's citations`,
          });
        }
      }
    }
  });
export type Draft = z.output<typeof draftSchema>;

export const reviewIssueSchema = z.object({
  severity: z.enum(['minor', 'major', 'critical']),
  section: z.string().max(200).optional().describe('Heading of the section concerned, if one'),
  problem: z.string().trim().min(1).max(1000),
  suggestion: z.string().trim().min(1).max(1000),
  rule: z.string().max(64).optional().describe('The rubric rule that found it, when a rule did'),
});
export type ReviewIssue = z.output<typeof reviewIssueSchema>;

export const revisionSchema = z.object({
  round: z.number().int().min(1).max(100),
  issues: z.array(reviewIssueSchema).max(50),
  previousDraft: draftSchema,
});
export type Revision = z.output<typeof revisionSchema>;

export const writeRequestSchema = z
  .object({
    topic: z.string().trim().min(1).max(500),
    findings: z.array(findingSchema).max(30),
    sources: z.array(sourceRefSchema).max(30),
    revision: revisionSchema.optional().describe('Set when a reviewer sent the previous draft back'),
  })
  .superRefine((value, context) => checkFindingSources(value.findings, value.sources, context));
export type WriteRequest = z.output<typeof writeRequestSchema>;

export const reviewRequestSchema = z.object({
  draft: draftSchema,
  sources: z.array(sourceRefSchema).max(30),
  findings: z.array(findingSchema).max(30).optional().describe('The findings the draft must cover'),
  topic: z.string().trim().min(1).max(500).optional(),
});
export type ReviewRequest = z.output<typeof reviewRequestSchema>;

export const verdictSchema = z
  .object({
    decision: z.enum(['approve', 'revise']),
    score: z.number().min(0).max(10).describe('0 (unusable) to 10 (publish as is)'),
    issues: z.array(reviewIssueSchema).max(50),
  })
  .superRefine((verdict, context) => {
    if (verdict.decision === 'approve' && verdict.issues.some((issue) => issue.severity === 'critical')) {
      context.addIssue({
        code: 'custom',
        path: ['decision'],
        message: 'A draft with a critical issue cannot be approved: decide "revise"',
      });
    }
  });
export type Verdict = z.output<typeof verdictSchema>;

export const researchContract = defineHandoff({
  name: 'research.topic',
  version: 1,
  description:
    'Research a topic in the document corpus (and the web, when enabled): findings with their sources.',
  input: researchRequestSchema,
  output: researchFindingsSchema,
});

export const writeContract = defineHandoff({
  name: 'write.draft',
  version: 1,
  description: 'Write a cited draft from research findings, or revise one against a reviewer’s issues.',
  input: writeRequestSchema,
  output: draftSchema,
});

export const reviewContract = defineHandoff({
  name: 'review.draft',
  version: 1,
  description:
    'Review a draft against its sources with a rubric: approve, or revise with issues and a score.',
  input: reviewRequestSchema,
  output: verdictSchema,
});

function checkFindingSources(
  findings: readonly Finding[],
  sources: readonly SourceRef[],
  context: z.RefinementCtx,
): void {
  const known = new Set(sources.map((source) => source.id));
  for (const [index, finding] of findings.entries()) {
    for (const id of finding.sources) {
      if (!known.has(id)) {
        context.addIssue({
          code: 'custom',
          path: ['findings', index, 'sources'],
          message: `Finding ${index + 1} cites "${id}", which is not in "sources"`,
        });
      }
    }
  }
}
