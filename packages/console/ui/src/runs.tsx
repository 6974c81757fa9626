import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, type RunSummary } from './api';
import { formatCost, formatMs, formatTime, formatTokens, statusClass, useLive } from './util';

const STATUSES = [
  '',
  'live',
  'completed',
  'running',
  'awaiting_approval',
  'failed',
  'timeout',
  'budget_exceeded',
  'max_steps',
  'denied',
  'aborted',
];

export function RunsPage() {
  const [runs, setRuns] = useState<RunSummary[] | undefined>();
  const [error, setError] = useState('');
  const [filters, setFilters] = useState({ status: '', team: '', user: '', since: '', q: '' });
  const load = useCallback(async () => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) {
      if (!value) continue;
      params.set(key, key === 'since' ? String(Date.parse(value)) : value);
    }
    try {
      const body = await api<{ runs: RunSummary[] }>(`runs?${params}`);
      setRuns(body.runs);
      setError('');
    } catch (failure) {
      setError((failure as Error).message);
    }
  }, [filters]);
  useEffect(() => {
    void load();
  }, [load]);
  const connected = useLive(load);
  const teams = [...new Set((runs ?? []).map((run) => run.name))].sort();
  const set = (key: keyof typeof filters) => (event: Event) =>
    setFilters({ ...filters, [key]: (event.target as HTMLInputElement).value });
  return (
    <>
      <h1 tabIndex={-1}>Runs</h1>
      <p class="hint" aria-live="polite">
        {connected ? 'Live: new runs and running rows update by themselves.' : 'Connecting to live updates…'}
      </p>
      <form class="filters" aria-label="Filter runs" onSubmit={(event) => event.preventDefault()}>
        <label>
          Search run or trace id
          <input type="search" name="q" value={filters.q} onInput={set('q')} />
        </label>
        <label>
          Status
          <select name="status" value={filters.status} onChange={set('status')}>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status === '' ? 'any' : status}
              </option>
            ))}
          </select>
        </label>
        <label>
          Team or agent
          <input name="team" list="team-names" value={filters.team} onInput={set('team')} />
          <datalist id="team-names">
            {teams.map((team) => (
              <option key={team} value={team} />
            ))}
          </datalist>
        </label>
        <label>
          User
          <input name="user" value={filters.user} onInput={set('user')} />
        </label>
        <label>
          Since
          <input type="datetime-local" name="since" value={filters.since} onInput={set('since')} />
        </label>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {runs === undefined ? (
        <p>Loading…</p>
      ) : runs.length === 0 ? (
        <p>
          No runs yet. <a href="#/start">Start one</a>, or run <code>baton run research</code> in this
          directory.
        </p>
      ) : (
        <div class="scroll">
          <table class="runs">
            <caption class="sr-only">Runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Team / agent</th>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Tokens</th>
                <th scope="col">Cost</th>
                <th scope="col">User</th>
                <th scope="col">Tenant</th>
                <th scope="col">Bundle</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr key={run.runId} data-run={run.runId} data-status={run.status}>
                  <td>
                    <a href={`#/runs/${encodeURIComponent(run.runId)}`}>{run.runId}</a>
                  </td>
                  <td>
                    {run.name} <span class="muted">{run.kind}</span>
                  </td>
                  <td>
                    <span class={`badge ${statusClass(run.status)}`}>
                      {run.live && <span class="pulse" aria-hidden="true" />}
                      {run.status}
                    </span>
                  </td>
                  <td>{formatTime(run.startedMs)}</td>
                  <td>{formatMs(run.durationMs)}</td>
                  <td>{formatTokens(run.tokens)}</td>
                  <td>{run.tokens || run.costUsd !== undefined ? formatCost(run.costUsd) : '—'}</td>
                  <td>{run.user ?? '—'}</td>
                  <td>{run.tenant ?? '—'}</td>
                  <td>
                    {run.bundle ? (
                      <code title={run.bundle}>
                        {run.bundle.length > 16 ? `${run.bundle.slice(0, 14)}…` : run.bundle}
                      </code>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
