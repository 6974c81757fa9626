import type { RunDetail } from './api';

/** Who handed work to whom: the members in order of first appearance, an arrow per distinct handoff. */
export function HandoffGraph({ handoffs }: { handoffs: RunDetail['handoffs'] }) {
  const nodes: string[] = [];
  const add = (name: string) => {
    if (!nodes.includes(name)) nodes.push(name);
  };
  for (const step of handoffs) {
    add(step.from);
    add(step.to);
  }
  const edges = new Map<string, { from: number; to: number; count: number }>();
  for (const step of handoffs) {
    const key = `${step.from}\u0000${step.to}`;
    const edge = edges.get(key) ?? { from: nodes.indexOf(step.from), to: nodes.indexOf(step.to), count: 0 };
    edge.count++;
    edges.set(key, edge);
  }
  const gap = 150;
  const width = Math.max(1, nodes.length) * gap;
  const y = 70;
  const x = (index: number) => gap / 2 + index * gap;
  return (
    <figure class="graph">
      <svg viewBox={`0 0 ${width} 140`} role="img" aria-labelledby="graph-title">
        <title id="graph-title">
          Handoff graph:{' '}
          {[...edges.values()]
            .map(
              (edge) =>
                `${nodes[edge.from]} to ${nodes[edge.to]}${edge.count > 1 ? ` ${edge.count} times` : ''}`,
            )
            .join(', ')}
        </title>
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0 0 L10 5 L0 10 z" fill="#475569" />
          </marker>
        </defs>
        {[...edges.values()].map((edge) => {
          const forward = edge.to > edge.from;
          const x1 = x(edge.from) + (forward ? 44 : -44);
          const x2 = x(edge.to) + (forward ? -44 : 44);
          const lift = forward ? -38 : 38;
          const mid = (x1 + x2) / 2;
          return (
            <g key={`${edge.from}-${edge.to}`}>
              <path
                d={`M${x1} ${y} Q${mid} ${y + lift} ${x2} ${y}`}
                fill="none"
                stroke="#475569"
                stroke-width="1.5"
                marker-end="url(#arrow)"
              />
              {edge.count > 1 && (
                <text x={mid} y={y + lift * 0.6} text-anchor="middle" font-size="12" fill="#334155">
                  ×{edge.count}
                </text>
              )}
            </g>
          );
        })}
        {nodes.map((name, index) => (
          <g key={name}>
            <rect
              x={x(index) - 44}
              y={y - 16}
              width="88"
              height="32"
              rx="8"
              fill={name === 'user' ? '#f1f5f9' : '#e0e7ff'}
              stroke="#6366f1"
            />
            <text x={x(index)} y={y + 5} text-anchor="middle" font-size="13" fill="#1e1b4b">
              {name.length > 12 ? `${name.slice(0, 11)}…` : name}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}
