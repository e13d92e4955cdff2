/**
 * The SVG drawing of a laid-out statechart (see `layout.ts`): compound states first, then
 * transitions, then leaf states and edge labels on top. Status classes (`is-active`,
 * `is-visited`, `is-highlight`, `is-taken`) carry the colours (`diagram.css`).
 */
import { useId, type KeyboardEvent } from 'react';
import { useI18n } from '../i18n.tsx';
import { LABEL_LINE, labelLines, type LaidEdge, type LaidState, type Layout } from './layout.ts';

export interface DiagramStatus {
  active: Set<string>;
  visited: Set<string>;
  highlight: Set<string>;
  taken: { from: string; to: string; event?: string }[];
  highlightSteps: { from: string; to: string }[];
  takenAny: boolean;
}

/** Is `leaf` the state `path` or inside it? */
const covers = (path: string, leaf: string): boolean => leaf === path || leaf.startsWith(`${path}.`);
const anyCovered = (path: string, set: Set<string>): boolean => [...set].some((p) => covers(path, p));

function stateClasses(s: LaidState, st: DiagramStatus): string[] {
  const out = [`state`, `state-${s.kind}`];
  if (s.region) out.push('state-region');
  if (st.active.has(s.id)) out.push('is-active');
  else if (anyCovered(s.id, st.active)) out.push('has-active');
  if (st.highlight.has(s.id)) out.push('is-highlight');
  if (st.visited.has(s.id)) out.push('is-visited');
  return out;
}

function edgeClasses(e: LaidEdge, st: DiagramStatus): string[] {
  const out = ['edge', `edge-${e.kind}`];
  if (e.kind === 'initial') return out;
  if (
    st.taken.some(
      (t) => covers(e.from, t.from) && covers(e.to, t.to) && (t.event === undefined || t.event === e.event),
    )
  )
    out.push('is-taken');
  if (st.highlightSteps.some((p) => covers(e.from, p.from) && covers(e.to, p.to))) out.push('is-highlight');
  return out;
}

function pathOf(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
}

export function DiagramCanvas(props: {
  layout: Layout;
  view: { x: number; y: number; k: number };
  status: DiagramStatus;
  label: string;
  onSelectState?: (id: string) => void;
}) {
  const { layout, view, status, onSelectState } = props;
  const { pick } = useI18n();
  const uid = useId().replace(/:/g, '');
  const containers = layout.states.filter((s) => s.kind === 'compound' || s.kind === 'parallel');
  const leaves = layout.states.filter((s) => s.kind === 'atomic' || s.kind === 'final');
  const edges = layout.edges.map((e) => ({ e, cls: edgeClasses(e, status) }));
  const marker = (cls: string[]): string =>
    `url(#${uid}-${cls.includes('is-highlight') ? 'hl' : cls.includes('is-taken') ? 'taken' : 'plain'})`;

  const stateTitle = (s: LaidState): string => {
    const tags: string[] = [];
    if (status.active.has(s.id)) tags.push(pick({ zh: '当前', en: 'current' }));
    else if (status.visited.has(s.id)) tags.push(pick({ zh: '已经过', en: 'visited' }));
    if (status.highlight.has(s.id)) tags.push(pick({ zh: '反例路径', en: 'counterexample' }));
    return `${s.title} (${s.id})${tags.length ? ` — ${tags.join(', ')}` : ''}${s.sla ? `\n⏱ ${s.sla}` : ''}`;
  };

  const interactive = (s: LaidState) =>
    onSelectState
      ? {
          role: 'button',
          tabIndex: 0,
          onClick: () => onSelectState(s.id),
          onKeyDown: (e: KeyboardEvent) => {
            if (e.key === 'Enter' || e.key === ' ') {
              e.preventDefault();
              onSelectState(s.id);
            }
          },
        }
      : {};

  const dataAttrs = (s: LaidState) => ({
    'data-state-id': s.id,
    'data-status': status.active.has(s.id)
      ? 'active'
      : status.highlight.has(s.id)
        ? 'highlight'
        : status.visited.has(s.id)
          ? 'visited'
          : 'idle',
    'aria-label': stateTitle(s),
  });

  return (
    <svg className="diagram-svg" role="group" aria-label={props.label} width="100%" height="100%">
      <defs>
        {(['plain', 'taken', 'hl'] as const).map((m) => (
          <marker
            key={m}
            id={`${uid}-${m}`}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerUnits="userSpaceOnUse"
            markerWidth="9"
            markerHeight="9"
            orient="auto-start-reverse"
          >
            <path d="M0 0 L10 5 L0 10 z" className={`arrow arrow-${m}`} />
          </marker>
        ))}
      </defs>
      <g transform={`translate(${view.x} ${view.y}) scale(${view.k})`}>
        {containers.map((s) => (
          <g key={s.id} className={stateClasses(s, status).join(' ')} {...dataAttrs(s)} {...interactive(s)}>
            <title>{stateTitle(s)}</title>
            <rect x={s.x} y={s.y} width={s.width} height={s.height} rx={12} className="state-box" />
            <text x={s.x + 12} y={s.y + 21} className="state-heading">
              {s.kind === 'parallel' ? '∥ ' : ''}
              {s.title}
            </text>
          </g>
        ))}
        {edges.map(({ e, cls }) => (
          <path key={e.id} d={pathOf(e.points)} className={cls.join(' ')} markerEnd={marker(cls)}>
            <title>{e.detail}</title>
          </path>
        ))}
        {layout.initials.map((i) => (
          <circle key={i.id} cx={i.x + i.size / 2} cy={i.y + i.size / 2} r={i.size / 2} className="initial" />
        ))}
        {leaves.map((s) => (
          <g key={s.id} className={stateClasses(s, status).join(' ')} {...dataAttrs(s)} {...interactive(s)}>
            <title>{stateTitle(s)}</title>
            <rect x={s.x} y={s.y} width={s.width} height={s.height} rx={9} className="state-box" />
            {s.kind === 'final' && (
              <rect
                x={s.x + 4}
                y={s.y + 4}
                width={s.width - 8}
                height={s.height - 8}
                rx={6}
                className="state-inner"
              />
            )}
            <text x={s.x + s.width / 2} y={s.y + s.height / 2} className="state-title">
              {s.title}
            </text>
          </g>
        ))}
        {edges.map(({ e, cls }) =>
          e.labelBox ? (
            <g key={`l${e.id}`} className={`edge-label ${cls.slice(2).join(' ')}`} data-event={e.event}>
              <title>{e.detail}</title>
              <rect
                x={e.labelBox.x}
                y={e.labelBox.y}
                width={e.labelBox.width}
                height={e.labelBox.height}
                rx={3}
              />
              <text x={e.labelBox.x + 4} y={e.labelBox.y + 2}>
                {labelLines(e.label).map((line, i) => (
                  <tspan key={i} x={e.labelBox!.x + 4} y={e.labelBox!.y + 2 + (i + 1) * LABEL_LINE - 3}>
                    {line}
                  </tspan>
                ))}
              </text>
            </g>
          ) : null,
        )}
      </g>
    </svg>
  );
}
