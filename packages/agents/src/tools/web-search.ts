import { BatonError, defineTool, type Tool, ToolError } from '@baton/core';
import { z } from 'zod';

export const WEB_SEARCH = 'web_search';

export interface WebSearchResult {
  title: string;
  url: string;
  /** A short excerpt of the page that matches the query. */
  snippet: string;
  /** ISO date, when the provider knows it. */
  publishedAt?: string;
}

export interface WebSearchOptions {
  /** Most results wanted. */
  limit: number;
  /** Aborted when the tool times out or the run stops: pass it to fetch. */
  signal: AbortSignal;
}

/**
 * A web search backend you implement (Brave, Bing, SerpAPI, Tavily, an internal search service, ...).
 * Baton ships none: with no provider the researcher simply has no `web_search` tool.
 *
 * Throw a `ToolError` for failures the model should read (quota exhausted, query rejected); mark it
 * `retryable: true` when a retry can succeed. Other errors are reported as retryable network failures.
 */
export interface WebSearchProvider {
  /** Shown in the tool description, e.g. "Brave Search". */
  readonly name?: string;
  search(query: string, options: WebSearchOptions): Promise<readonly WebSearchResult[]>;
}

export interface WebSearchToolOptions {
  /** Default results per query; default 5. */
  defaultLimit?: number;
  /** Per attempt; default 15 s. */
  timeoutMs?: number;
  /** Calls allowed per run; default 10. */
  maxCallsPerRun?: number;
}

const webSearchInput = z.object({
  query: z.string().trim().min(1).max(400).describe('What to search the web for'),
  limit: z.number().int().min(1).max(10).optional().describe('Most results to return (1–10)'),
});

const webResultSchema = z.object({
  title: z.string().trim().min(1).max(500),
  url: z.url({ protocol: /^https?$/ }),
  snippet: z.string().max(2000),
  publishedAt: z.string().max(64).optional(),
});
const providerResultsSchema = z.array(webResultSchema);

const webSearchOutput = z.object({
  query: z.string(),
  results: z.array(webResultSchema),
});
export type WebSearchToolOutput = z.output<typeof webSearchOutput>;

/**
 * `web_search` over a provider you implement. The provider's answer is validated (it is data from
 * outside); results reach the model marked as untrusted, like every tool result.
 */
export function webSearchTool(
  provider: WebSearchProvider,
  options: WebSearchToolOptions = {},
): Tool<z.output<typeof webSearchInput>, WebSearchToolOutput> {
  if (!provider || typeof provider.search !== 'function') {
    throw new BatonError(
      'CONFIG_INVALID',
      'webSearchTool(provider): "provider" must have a search(query, options) method',
      {
        hint: 'Implement WebSearchProvider over the search API you use; Baton does not ship a web search backend.',
      },
    );
  }
  const defaultLimit = options.defaultLimit ?? 5;
  const label = provider.name ? ` (${provider.name})` : '';
  return defineTool({
    name: WEB_SEARCH,
    description:
      `Search the web${label}. Returns titles, URLs and snippets of pages. Use it for what the document corpus does not ` +
      'cover; cite a web result by its URL.',
    input: webSearchInput,
    output: webSearchOutput,
    risk: 'read',
    timeoutMs: options.timeoutMs ?? 15_000,
    retry: { attempts: 2, initialDelayMs: 500, maxDelayMs: 2_000 },
    rateLimit: { perRun: options.maxCallsPerRun ?? 10 },
    execute: async ({ query, limit }, context) => {
      const wanted = limit ?? defaultLimit;
      let raw: unknown;
      try {
        raw = await provider.search(query, { limit: wanted, signal: context.signal });
      } catch (error) {
        if (error instanceof ToolError || context.signal.aborted) throw error;
        throw new ToolError(
          'SEARCH_UNAVAILABLE',
          `Web search failed: ${(error as Error)?.message ?? String(error)}`,
          {
            retryable: true,
            cause: error,
            hint: 'Retry later, or continue with the document corpus.',
          },
        );
      }
      const parsed = providerResultsSchema.safeParse(raw);
      if (!parsed.success) {
        throw new ToolError(
          'SEARCH_RESPONSE_INVALID',
          'The web search provider returned results in an unexpected shape.',
          {
            details: {
              issues: parsed.error.issues
                .slice(0, 5)
                .map((issue) => `${issue.path.join('.')}: ${issue.message}`),
            },
            hint: 'This is a fault in the search provider, not in your query. Continue with the document corpus.',
          },
        );
      }
      if (parsed.data.length === 0) {
        throw new ToolError('NO_RESULTS', `The web has no results for "${query}".`, {
          hint: 'Try fewer or different keywords.',
        });
      }
      return { query, results: parsed.data.slice(0, wanted) };
    },
  });
}
