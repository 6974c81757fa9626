// The console API, called relative to the page: `api/...` works at `/` and under `/ui/`.

// The rows the API sends are the server's own types (types only: nothing of the server is bundled).
export type * from '../../src/wire';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

const KEY = 'baton.console.key';

/** The gateway's API key, when the console runs behind one (`baton serve` with keys); per tab only. */
export function savedKey(): string {
  try {
    return sessionStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

export function saveKey(key: string): void {
  try {
    sessionStorage.setItem(KEY, key);
  } catch {
    // Storage refused: the key is asked again on the next page load.
  }
}

export async function api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const headers: Record<string, string> = {};
  if (init?.body !== undefined) headers['content-type'] = 'application/json';
  const key = savedKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`api/${path}`, {
    method: init?.method ?? 'GET',
    headers,
    body: init?.body === undefined ? null : JSON.stringify(init.body),
  });
  const body = (await response.json().catch(() => ({}))) as {
    error?: { message?: string; details?: { issues?: { path: string; message: string }[] } };
  };
  if (response.status === 401) dispatchEvent(new CustomEvent('baton:unauthorized'));
  if (!response.ok) {
    throw new ApiError(
      body.error?.message ?? `${response.status} ${response.statusText}`,
      response.status,
      body.error?.details?.issues ?? [],
    );
  }
  return body as T;
}
