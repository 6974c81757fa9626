import { Fragment } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, type RunDetail, type WaterfallSpan } from './api';
import { ApprovalCard } from './approvals';
import { HandoffGraph } from './graph';
import { formatCost, formatMs, formatTime, formatTokens, json, statusClass, useLive } from './util';

function Waterfall({ spans, total }: { spans: WaterfallSpan[]; total: number }) {
  const [open, setOpen] = useState<string | undefined>();
  const scale = total > 0 ? total : 1;
  return (
    <div class="scroll">
      <table class="waterfall">
        <caption class="sr-only">
          Every span of the run, nested under its parent, with its place in time
        </caption>
        <thead>
          <tr>
            <th scope="col">Span</th>
            <th scope="col">Process</th>
            <th scope="col">Duration</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
            <th scope="col">Status</th>
            <th scope="col" class="timeline-head">
              Timeline
            </th>
          </tr>
        </thead>
        <tbody>
          {spans.map((span) => (
            <Fragment key={span.spanId}>
              <tr
                class={`op-${span.operation}`}
                data-operation={span.operation}
                data-agent={span.agent ?? ''}
              >
                <th scope="row" style={{ paddingLeft: `${0.4 + span.depth * 0.9}rem` }}>
                  <button
                    type="button"
                    class="link"
                    aria-expanded={open === span.spanId}
                    onClick={() => setOpen(open === span.spanId ? undefined : span.spanId)}
                  >
                    {span.name}
                  </button>
                </th>
                <td>
                  {span.service} <span class="muted">pid {span.pid}</span>
                </td>
                <td>{formatMs(span.durationMs)}</td>
                <td>{formatTokens(span.tokens)}</td>
                <td>{span.tokens || span.costUsd !== undefined ? formatCost(span.costUsd) : '—'}</td>
                <td>
                  <span
                    class={`badge ${span.status === 'error' ? 'bad' : span.runStatus ? statusClass(span.runStatus) : 'good'}`}
                  >
                    {span.runStatus ?? (span.status === 'error' ? 'error' : 'ok')}
                  </span>
                </td>
                <td class="timeline" aria-hidden="true">
                  <span
                    class="bar"
                    style={{
                      marginLeft: `${(span.offsetMs / scale) * 100}%`,
                      width: `${Math.max(0.5, (span.durationMs / scale) * 100)}%`,
                    }}
                  />
                </td>
              </tr>
              {open === span.spanId && (
                <tr class="attrs">
                  <td colSpan={7}>
                    {span.statusMessage && <p class="error">{span.statusMessage}</p>}
                    <pre class="code">{json(span.attributes)}</pre>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RunPage({ id, user }: { id: string; user: string }) {
  const [detail, setDetail] = useState<RunDetail | undefined>();
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    try {
      setDetail(await api<RunDetail>(`runs/${encodeURIComponent(id)}`));
      setError('');
    } catch (failure) {
      setError((failure as Error).message);
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);
  useLive(load);
  if (!detail) {
    return (
      <>
        <h1 tabIndex={-1}>Run {id}</h1>
        {error ? (
          <p role="alert" class="error">
            {error}
          </p>
        ) : (
          <p>Loading…</p>
        )}
      </>
    );
  }
  const { run } = detail;
  const pending = detail.approvals.filter((approval) => approval.status === 'pending');
  return (
    <>
      <h1 tabIndex={-1}>
        {run.name} <span class="muted">{run.runId}</span>
      </h1>
      <p aria-live="polite" class="summary">
        <span class={`badge ${statusClass(run.status)}`} data-testid="run-status">
          {run.live && <span class="pulse" aria-hidden="true" />}
          {run.status}
        </span>{' '}
        started {formatTime(run.startedMs)} · {formatMs(run.durationMs)} · {formatTokens(run.tokens)} tokens ·{' '}
        {run.tokens || run.costUsd !== undefined ? formatCost(run.costUsd) : 'cost unknown'}
        {run.traceId && (
          <>
            {' '}
            · trace <code>{run.traceId}</code>
          </>
        )}
      </p>
      {pending.length > 0 && (
        <section aria-labelledby="pending-title">
          <h2 id="pending-title">Waiting for a decision</h2>
          {pending.map((approval) => (
            <ApprovalCard
              key={`${approval.runId}/${approval.toolCallId}`}
              approval={approval}
              user={user}
              onDecided={load}
            />
          ))}
        </section>
      )}
      <section aria-labelledby="stop-title" class="grid2">
        <div>
          <h2 id="stop-title">Stop reason</h2>
          {detail.stopReason ? (
            <p data-testid="stop-reason">
              <strong>{detail.stopReason.kind}</strong>
              {detail.stopReason.message ? ` — ${detail.stopReason.message}` : ''}
            </p>
          ) : (
            <p class="muted">{run.live ? 'Still running.' : 'Not recorded.'}</p>
          )}
        </div>
        <div>
          <h2>Budget</h2>
          {detail.budget ? (
            <table class="compact">
              <thead>
                <tr>
                  <th scope="col">Limit</th>
                  <th scope="col">Used</th>
                  <th scope="col">Of</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(detail.budget.limits).map(([key, limit]) => {
                  const usedKey = key.replace(/^max/, '').replace(/^./, (c) => c.toLowerCase());
                  const used = detail.budget?.used[usedKey];
                  return (
                    <tr key={key}>
                      <th scope="row">{key}</th>
                      <td>{used === undefined ? '—' : used.toLocaleString('en')}</td>
                      <td>
                        {limit.toLocaleString('en')}
                        {used !== undefined && limit > 0 && (
                          <meter min={0} max={limit} value={used} aria-label={`${key} used`}>
                            {Math.round((used / limit) * 100)}%
                          </meter>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : (
            <p class="muted">The run's spans and journal carry no limits.</p>
          )}
        </div>
      </section>
      <section aria-labelledby="waterfall-title">
        <h2 id="waterfall-title">Waterfall</h2>
        {detail.spans.length === 0 ? (
          <p class="muted">{run.live ? 'Spans appear as they finish.' : 'No spans recorded for this run.'}</p>
        ) : (
          <Waterfall spans={detail.spans} total={detail.traceDurationMs} />
        )}
      </section>
      <section aria-labelledby="handoffs-title">
        <h2 id="handoffs-title">Handoffs</h2>
        {detail.handoffs.length === 0 ? (
          <p class="muted">No handoffs.</p>
        ) : (
          <HandoffGraph handoffs={detail.handoffs} />
        )}
        <ol class="transcript">
          {detail.handoffs.map((step, index) => (
            <li key={`${index}-${step.to}`}>
              <details>
                <summary>
                  {step.round !== undefined && <span class="muted">round {step.round} · </span>}
                  {step.from} → <strong>{step.to}</strong>
                  {step.contract && <code> {step.contract}</code>}
                  {step.status && <span class={`badge ${statusClass(step.status)}`}>{step.status}</span>}
                  {step.durationMs !== undefined && <span class="muted"> {formatMs(step.durationMs)}</span>}
                </summary>
                {step.input !== undefined && (
                  <>
                    <h3>Input</h3>
                    <pre class="code">{json(step.input)}</pre>
                  </>
                )}
                {step.output !== undefined && (
                  <>
                    <h3>Output</h3>
                    <pre class="code">{json(step.output)}</pre>
                  </>
                )}
                {step.input === undefined && step.output === undefined && (
                  <p class="muted">Payloads are in the journal of journaled runs (baton run --journal).</p>
                )}
              </details>
            </li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="agents-title">
        <h2 id="agents-title">Agents</h2>
        <div class="scroll">
          <table class="compact">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Status</th>
                <th scope="col">Calls</th>
                <th scope="col">Failures</th>
                <th scope="col">Steps</th>
                <th scope="col">Tokens</th>
                <th scope="col">Cost</th>
                <th scope="col">Time</th>
              </tr>
            </thead>
            <tbody>
              {detail.agents.map((agent) => (
                <tr key={agent.agent} data-agent={agent.agent}>
                  <th scope="row">{agent.agent}</th>
                  <td>
                    <span class={`badge ${statusClass(agent.status)}`}>{agent.status}</span>
                  </td>
                  <td>{agent.invocations}</td>
                  <td>{agent.failures}</td>
                  <td>{agent.steps}</td>
                  <td>{formatTokens(agent.tokens)}</td>
                  <td>{formatCost(agent.costUsd)}</td>
                  <td>{formatMs(agent.durationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="tools-title">
        <h2 id="tools-title">Tool calls</h2>
        {detail.tools.length === 0 ? (
          <p class="muted">No tool calls.</p>
        ) : (
          <ul class="tools">
            {detail.tools.map((call) => (
              <li key={`${call.agent}/${call.toolCallId}`}>
                <details>
                  <summary>
                    <strong>{call.tool}</strong> <span class="muted">({call.agent})</span>{' '}
                    <span class={`badge ${statusClass(call.status)}`}>{call.status}</span>
                    {call.risk && call.risk !== 'read' && <span class="badge wait">{call.risk}</span>}
                    {call.approval && (
                      <span class="muted">
                        {' '}
                        {call.approval.status}
                        {call.approval.by ? ` by ${call.approval.by}` : ''}
                      </span>
                    )}
                    {call.durationMs !== undefined && <span class="muted"> {formatMs(call.durationMs)}</span>}
                  </summary>
                  {call.args !== undefined && (
                    <>
                      <h3>Arguments</h3>
                      <pre class="code">{json(call.args)}</pre>
                    </>
                  )}
                  {call.result !== undefined && (
                    <>
                      <h3>Result</h3>
                      <pre class="code">{json(call.result)}</pre>
                    </>
                  )}
                  {call.error !== undefined && (
                    <>
                      <h3>Error</h3>
                      <pre class="code">{json(call.error)}</pre>
                    </>
                  )}
                  {call.args === undefined && call.result === undefined && (
                    <p class="muted">Arguments and results are in the journal of journaled runs.</p>
                  )}
                </details>
              </li>
            ))}
          </ul>
        )}
      </section>
      {detail.output !== undefined && (
        <section aria-labelledby="output-title">
          <h2 id="output-title">Output</h2>
          <details>
            <summary>The run's final output</summary>
            <pre class="code">{json(detail.output)}</pre>
          </details>
        </section>
      )}
    </>
  );
}
