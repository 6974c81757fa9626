// The console API, called relative to the page: `api/...` works at `/` and under `/ui/`.

export interface RunSummary {
  runId: string;
  traceId?: string;
  kind: 'team' | 'agent';
  name: string;
  status: string;
  live: boolean;
  startedMs: number;
  durationMs?: number;
  tokens?: { input: number; output: number };
  costUsd?: number;
  steps?: number;
  user?: string;
  tenant?: string;
  bundle?: string;
  service?: string;
}

export interface WaterfallSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  operation: string;
  depth: number;
  offsetMs: number;
  durationMs: number;
  status: 'ok' | 'error' | 'unset';
  statusMessage?: string;
  runStatus?: string;
  agent?: string;
  tool?: string;
  model?: string;
  runId?: string;
  tokens?: { input: number; output: number };
  costUsd?: number;
  service: string;
  pid: number;
  attributes: Record<string, unknown>;
}

export interface Approval {
  runId: string;
  toolCallId: string;
  agent: string;
  tool: string;
  risk: string;
  args: unknown;
  reason: string;
  preview?: unknown;
  schema?: unknown;
  teamRunId?: string;
  requestedAt: number;
  expiresAt?: number;
  status: string;
  decidedBy?: string;
  decidedAt?: number;
}

export interface RunDetail {
  run: RunSummary;
  traceDurationMs: number;
  spans: WaterfallSpan[];
  handoffs: {
    round?: number;
    from: string;
    to: string;
    contract?: string;
    status?: string;
    durationMs?: number;
    input?: unknown;
    output?: unknown;
  }[];
  agents: {
    agent: string;
    status: string;
    invocations: number;
    failures: number;
    steps: number;
    tokens: { input: number; output: number };
    costUsd?: number;
    durationMs: number;
  }[];
  tools: {
    agent: string;
    toolCallId: string;
    tool: string;
    risk?: string;
    status: string;
    durationMs?: number;
    args?: unknown;
    result?: unknown;
    error?: unknown;
    approval?: { status: string; by?: string; at?: number };
  }[];
  stopReason?: { kind: string; message?: string };
  budget?: { limits: Record<string, number>; used: Record<string, number> };
  output?: unknown;
  approvals: Approval[];
  journaled: boolean;
}

export interface Team {
  name: string;
  description: string;
  members: string[];
}

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
