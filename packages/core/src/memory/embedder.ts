/**
 * Turns text into vectors for semantic recall. Stores with vector search take the vectors through
 * `MemoryPutOptions.embedding` / `MemorySearchOptions.embedding`; the memory tools and run memory call the
 * embedder when one is configured, and recall lexically when not.
 */
export interface Embedder {
  /** The embedding model, e.g. `text-embedding-3-small`: vectors of two models are not comparable. */
  readonly id: string;
  /** One vector per text, in order. */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<number[][]>;
}
