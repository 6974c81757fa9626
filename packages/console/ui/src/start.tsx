import { useEffect, useState } from 'preact/hooks';
import { api, type ConsoleTeam } from './api';

export function StartPage({ user }: { user: string }) {
  const [teams, setTeams] = useState<ConsoleTeam[]>([]);
  const [canStart, setCanStart] = useState(true);
  const [team, setTeam] = useState('');
  const [topic, setTopic] = useState('retries, timeouts and budgets for AI agents in production');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api<{ teams: ConsoleTeam[]; canStart: boolean }>('teams').then(
      (body) => {
        setTeams(body.teams);
        setCanStart(body.canStart);
        setTeam((current) => current || body.teams[0]?.name || '');
      },
      (failure: Error) => setError(failure.message),
    );
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const { runId } = await api<{ runId: string }>('runs', {
        method: 'POST',
        body: { team, topic, user: user.trim() || 'anonymous' },
      });
      location.hash = `#/runs/${encodeURIComponent(runId)}`;
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const chosen = teams.find((entry) => entry.name === team);
  return (
    <>
      <h1 tabIndex={-1}>Start a run</h1>
      {!canStart ? (
        <p>
          This console cannot start runs. Start them with <code>baton view</code> or <code>baton run</code>.
        </p>
      ) : (
        <form class="stack" onSubmit={submit} aria-describedby="start-help">
          <p id="start-help" class="hint">
            The team runs in the console's process and is traced here: its run page updates live.
          </p>
          <label>
            Team
            <select
              name="team"
              value={team}
              onChange={(event) => setTeam((event.target as HTMLSelectElement).value)}
              required
            >
              {teams.map((entry) => (
                <option key={entry.name} value={entry.name}>
                  {entry.name}
                </option>
              ))}
            </select>
          </label>
          {chosen && (
            <p class="muted">
              {chosen.description}
              {chosen.members.length > 0 && ` — members: ${chosen.members.join(', ')}`}
            </p>
          )}
          <label>
            Topic
            <textarea
              name="topic"
              rows={3}
              value={topic}
              required
              onInput={(event) => setTopic((event.target as HTMLTextAreaElement).value)}
            />
          </label>
          <div>
            <button type="submit" disabled={busy || !team}>
              {busy ? 'Starting…' : 'Start run'}
            </button>
          </div>
          {error && (
            <p role="alert" class="error">
              {error}
            </p>
          )}
        </form>
      )}
    </>
  );
}
