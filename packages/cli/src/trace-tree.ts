import { BatonAttr, GenAI, GenAIOperation } from '@baton/core';
import { formatCost, formatDuration, formatTokens } from '@baton/teams';
import type { SpanRecord } from '@baton/telemetry';

export interface TraceTreeOptions {
  /** Widest span label before the duration column; default 64. */
  labelWidth?: number;
}

interface Node {
  span: SpanRecord;
  children: Node[];
}

/**
 * A trace as a tree, one span per line: name, duration, and what matters about it (status, model,
 * tokens, tool outcome, stop reason). A span recorded by another process than its parent says which
 * (`@ baton-worker-writer pid 4242`), so a trace across workers reads as one story. Spans whose parent
 * is not in the files (still buffered in a live process) are listed as roots of their own.
 */
export function renderTraceTree(spans: readonly SpanRecord[], options: TraceTreeOptions = {}): string {
  if (spans.length === 0) return '(no spans)';
  const roots = buildTree(spans);
  const rows: { label: string; duration: string; details: string }[] = [];
  const visit = (node: Node, prefix: string, childPrefix: string, parent: SpanRecord | undefined) => {
    const where =
      parent === undefined || parent.pid !== node.span.pid
        ? `@ ${node.span.service} pid ${node.span.pid}`
        : '';
    rows.push({
      label: `${prefix}${node.span.name}`,
      duration: formatDuration(node.span.durationMs),
      details: [describeSpan(node.span), where].filter((part) => part !== '').join('  '),
    });
    node.children.forEach((child, index) => {
      const last = index === node.children.length - 1;
      visit(
        child,
        `${childPrefix}${last ? '└─ ' : '├─ '}`,
        `${childPrefix}${last ? '   ' : '│  '}`,
        node.span,
      );
    });
  };
  for (const root of roots) visit(root, '', '', undefined);

  const width = Math.min(options.labelWidth ?? 64, Math.max(...rows.map((row) => [...row.label].length)));
  const durationWidth = Math.max(...rows.map((row) => row.duration.length));
  const processes = new Set(spans.map((span) => span.pid)).size;
  const start = Math.min(...spans.map((span) => span.startMs));
  const end = Math.max(...spans.map((span) => span.startMs + span.durationMs));
  const header = `Trace ${spans[0]?.traceId} · ${spans.length} spans · ${processes} process${processes === 1 ? '' : 'es'} · ${formatDuration(end - start)}`;
  const lines = rows.map((row) => {
    const label =
      [...row.label].length > width ? `${[...row.label].slice(0, width - 1).join('')}…` : row.label;
    const pad = ' '.repeat(Math.max(0, width - [...label].length));
    return `${label}${pad}  ${row.duration.padStart(durationWidth)}  ${row.details}`.trimEnd();
  });
  return [header, '', ...lines].join('\n');
}

function buildTree(spans: readonly SpanRecord[]): Node[] {
  const nodes = new Map<string, Node>();
  for (const span of [...spans].sort((a, b) => a.startMs - b.startMs))
    nodes.set(span.spanId, { span, children: [] });
  const roots: Node[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId ? nodes.get(node.span.parentSpanId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

/** The few attributes worth a glance, by kind of span. */
export function describeSpan(span: SpanRecord): string {
  const a = span.attributes;
  const parts: string[] = [];
  const tokens = () => {
    const input = a[GenAI.USAGE_INPUT_TOKENS];
    const output = a[GenAI.USAGE_OUTPUT_TOKENS];
    if (typeof input === 'number' && typeof output === 'number') {
      parts.push(`${formatTokens(input)} in / ${formatTokens(output)} out tokens`);
    }
  };
  const cost = () => {
    const usd = a[BatonAttr.COST_USD];
    if (typeof usd === 'number' && usd > 0) parts.push(formatCost(usd));
  };
  switch (a[GenAI.OPERATION_NAME]) {
    case GenAIOperation.INVOKE_WORKFLOW:
      push(parts, a[BatonAttr.RUN_STATUS]);
      if (a[BatonAttr.STOP_REASON] !== undefined) parts.push(`stop: ${a[BatonAttr.STOP_REASON]}`);
      if (typeof a[BatonAttr.ROUNDS] === 'number') parts.push(`${a[BatonAttr.ROUNDS]} rounds`);
      tokens();
      cost();
      break;
    case GenAIOperation.INVOKE_AGENT:
      push(parts, a[BatonAttr.RUN_STATUS]);
      if (typeof a[BatonAttr.STEPS] === 'number')
        parts.push(`${a[BatonAttr.STEPS]} step${a[BatonAttr.STEPS] === 1 ? '' : 's'}`);
      tokens();
      cost();
      push(parts, a[GenAI.REQUEST_MODEL]);
      break;
    case GenAIOperation.CHAT:
      push(parts, a[GenAI.RESPONSE_MODEL] ?? a[GenAI.REQUEST_MODEL]);
      tokens();
      cost();
      {
        const reasons = a[GenAI.RESPONSE_FINISH_REASONS];
        if (Array.isArray(reasons)) parts.push(`finish: ${reasons.join(',')}`);
      }
      break;
    case GenAIOperation.EXECUTE_TOOL:
      if (a[BatonAttr.TOOL_OK] === true) parts.push('ok');
      else if (a[BatonAttr.TOOL_OK] === false)
        parts.push(`failed${a['error.type'] ? ` (${a['error.type']})` : ''}`);
      if (a[BatonAttr.TOOL_CACHED] === true) parts.push('cached');
      break;
    default:
      if (a['baton.handoff.from'] !== undefined) parts.push(`from ${a['baton.handoff.from']}`);
      if (a['baton.handoff.contract'] !== undefined) parts.push(String(a['baton.handoff.contract']));
  }
  if (span.status.code === 2) parts.push(`✗ ${span.status.message ?? a['error.type'] ?? 'error'}`);
  return parts.join(' · ');
}

function push(parts: string[], value: unknown): void {
  if (value !== undefined && value !== '') parts.push(String(value));
}
