import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, type ApprovalRow, api } from './api';
import { formatTime, json, statusClass, useLive } from './util';

export function ApprovalCard({
  approval,
  user,
  onDecided,
}: {
  approval: ApprovalRow;
  user: string;
  onDecided: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(json(approval.args));
  const [reason, setReason] = useState('');
  const [error, setError] = useState<
    { message: string; issues: { path: string; message: string }[] } | undefined
  >();
  const [busy, setBusy] = useState(false);
  const pending = approval.status === 'pending';
  const id = `call-${approval.toolCallId}`.replace(/[^A-Za-z0-9_-]/g, '-');
  const send = async (body: Record<string, unknown>) => {
    if (!user.trim()) {
      setError({
        message: 'Give your name (top right) first: every decision records who made it.',
        issues: [],
      });
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await api(
        `approvals/${encodeURIComponent(approval.runId)}/${encodeURIComponent(approval.toolCallId)}`,
        {
          method: 'POST',
          body: { ...body, user: user.trim() },
        },
      );
      onDecided();
    } catch (failure) {
      const issues = failure instanceof ApiError ? failure.issues : [];
      setError({ message: (failure as Error).message, issues });
    } finally {
      setBusy(false);
    }
  };
  const saveEdit = () => {
    let args: unknown;
    try {
      args = JSON.parse(text);
    } catch (failure) {
      setError({ message: `Not JSON: ${(failure as Error).message}`, issues: [] });
      return;
    }
    void send({ action: 'edit', args });
  };
  return (
    <article class="card" aria-labelledby={`${id}-title`} data-call={approval.toolCallId}>
      <h2 id={`${id}-title`}>
        {approval.tool} <span class="muted">by {approval.agent}</span>{' '}
        <span class={`badge ${approval.risk === 'destructive' ? 'bad' : 'wait'}`}>{approval.risk}</span>{' '}
        <span class={`badge ${statusClass(approval.status)}`}>{approval.status}</span>
      </h2>
      <dl class="facts">
        <dt>Run</dt>
        <dd>
          <a href={`#/runs/${encodeURIComponent(approval.teamRunId ?? approval.runId)}`}>
            {approval.teamRunId ?? approval.runId}
          </a>
        </dd>
        <dt>Requested</dt>
        <dd>{formatTime(approval.requestedAt)}</dd>
        {approval.expiresAt !== undefined && (
          <>
            <dt>Expires</dt>
            <dd>{formatTime(approval.expiresAt)}</dd>
          </>
        )}
        <dt>Why</dt>
        <dd>{approval.reason === 'possible_duplicate' ? 'it may already have run' : approval.reason}</dd>
        {approval.decidedBy && (
          <>
            <dt>Decided</dt>
            <dd>
              by {approval.decidedBy}
              {approval.decidedAt ? ` at ${formatTime(approval.decidedAt)}` : ''}
            </dd>
          </>
        )}
      </dl>
      {approval.preview !== undefined && (
        <p class="preview">
          <strong>Preview:</strong> {json(approval.preview)}
        </p>
      )}
      {editing ? (
        <label>
          Arguments (JSON, checked against the tool's schema)
          <textarea
            class="code"
            rows={8}
            value={text}
            onInput={(event) => setText((event.target as HTMLTextAreaElement).value)}
            spellcheck={false}
          />
        </label>
      ) : (
        <>
          <h3>Arguments</h3>
          <pre class="code">{json(approval.args)}</pre>
        </>
      )}
      {pending && (
        <div class="actions">
          {editing ? (
            <>
              <button type="button" disabled={busy} onClick={saveEdit}>
                Approve with these arguments
              </button>
              <button type="button" class="secondary" onClick={() => setEditing(false)}>
                Cancel edit
              </button>
            </>
          ) : (
            <>
              <button type="button" disabled={busy} onClick={() => void send({ action: 'approve' })}>
                Approve
              </button>
              <button type="button" class="secondary" disabled={busy} onClick={() => setEditing(true)}>
                Edit…
              </button>
              <label class="inline">
                Reason
                <input
                  value={reason}
                  onInput={(event) => setReason((event.target as HTMLInputElement).value)}
                />
              </label>
              <button
                type="button"
                class="danger"
                disabled={busy}
                onClick={() =>
                  void send(reason.trim() ? { action: 'deny', reason: reason.trim() } : { action: 'deny' })
                }
              >
                Deny
              </button>
            </>
          )}
        </div>
      )}
      {error && (
        <div role="alert" class="error">
          <p>{error.message}</p>
          {error.issues.length > 0 && (
            <ul>
              {error.issues.map((issue) => (
                <li key={issue.path + issue.message}>
                  <code>{issue.path || '(arguments)'}</code>: {issue.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </article>
  );
}

export function ApprovalsPage({ user }: { user: string }) {
  const [approvals, setApprovals] = useState<ApprovalRow[] | undefined>();
  const [showAll, setShowAll] = useState(false);
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    try {
      const body = await api<{ approvals: ApprovalRow[] }>(`approvals?status=${showAll ? 'all' : 'pending'}`);
      setApprovals(body.approvals);
      setError('');
    } catch (failure) {
      setError((failure as Error).message);
    }
  }, [showAll]);
  useEffect(() => {
    void load();
  }, [load]);
  useLive(load);
  return (
    <>
      <h1 tabIndex={-1}>Approvals</h1>
      <label class="inline">
        <input
          type="checkbox"
          checked={showAll}
          onChange={(event) => setShowAll((event.target as HTMLInputElement).checked)}
        />{' '}
        Show decided calls too
      </label>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {approvals === undefined ? (
        <p>Loading…</p>
      ) : approvals.length === 0 ? (
        <p>No calls wait for a decision.</p>
      ) : (
        approvals.map((approval) => (
          <ApprovalCard
            key={`${approval.runId}/${approval.toolCallId}/${approval.status}`}
            approval={approval}
            user={user}
            onDecided={load}
          />
        ))
      )}
    </>
  );
}
