/**
 * The statechart diagram of a procedure: ELK layered layout (hierarchical states, parallel regions
 * dashed), drawn as SVG. Shows the current state(s), visited states and taken transitions, and a
 * highlighted path (a verification counterexample). Pan by dragging, zoom with the wheel or the
 * buttons, "Fit" to see it whole. Layout is async: a calm placeholder shows until it is ready, and
 * the previous drawing stays while a changed definition is laid out again.
 */
import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type PointerEvent as ReactPointerEvent,
} from 'react';
import type { ProcedureIR } from '../../../workflows/core/ir.ts';
import { useI18n } from '../i18n.tsx';
import { DiagramCanvas, type DiagramStatus } from './DiagramCanvas.tsx';
import { layoutProcedure, type Layout } from './layout.ts';
import './diagram.css';
import { delayWords, slaWords } from '../features/sla/words.ts';
import type { StateIR } from '../../../workflows/core/ir.ts';

export interface DiagramProps {
  ir: ProcedureIR;
  /** Active leaf state paths (current state). */
  active?: string[];
  /** State paths visited before. */
  visited?: string[];
  /** Transitions taken (leaf paths, as in the transition log). */
  taken?: { from: string; to: string; event?: string }[];
  /** A path of state paths to show in the warning colour (e.g. a counterexample). */
  highlight?: string[];
  onSelectState?: (id: string) => void;
  /** Height in px (default 560). */
  height?: number;
}

interface View {
  x: number;
  y: number;
  k: number;
}

/** Smallest zoom the initial view uses; a larger chart starts at its beginning and is panned. */
const MIN_START_SCALE = 0.85;
const MAX_START_SCALE = 1.15;

export function Diagram(props: DiagramProps) {
  const { ir, height = 560 } = props;
  const { text, pick, duration, lang } = useI18n();
  const [layouts, setLayouts] = useState<{ right: Layout; down: Layout; lang: string } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [size, setSize] = useState({ width: 0, height });
  const [view, setView] = useState<View | undefined>();
  const moved = useRef(false);
  const box = useRef<HTMLDivElement>(null);

  // Lay out (both directions; the one that fits the box better is drawn), debounced while editing.
  const hasLayout = layouts !== undefined;
  useEffect(() => {
    let live = true;
    const texts = {
      text,
      after: (delay: string) => pick(delayWords(delay, duration)),
      sla: (state: StateIR) => {
        const words = slaWords(state, duration, (r) => text(ir.roles[r]) || r);
        return words && pick(words);
      },
      done: pick({ zh: '全部完成后', en: 'when done' }),
      always: pick({ zh: '自动', en: 'automatically' }),
      call: {
        failed: pick({ zh: '失败', en: 'failed' }),
        cancelled: pick({ zh: '已取消', en: 'cancelled' }),
      },
    };
    const run = (): void => {
      Promise.all([layoutProcedure(ir, texts, 'RIGHT'), layoutProcedure(ir, texts, 'DOWN')])
        .then(([right, down]) => {
          if (!live) return;
          setLayouts({ right, down, lang });
          setError(undefined);
        })
        .catch((err: unknown) => {
          if (live) setError(err instanceof Error ? err.message : String(err));
        });
    };
    const timer = setTimeout(run, hasLayout ? 150 : 0);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // Relayout on a new IR or language only (texts derive from the language).
  }, [ir, lang]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => {
      if (entry) setSize({ width: entry.contentRect.width, height: entry.contentRect.height });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const layout = useMemo(() => {
    if (!layouts || !size.width) return layouts?.right;
    const fit = (l: Layout): number => Math.min(size.width / l.width, size.height / l.height);
    return fit(layouts.down) > fit(layouts.right) * 1.1 ? layouts.down : layouts.right;
  }, [layouts, size]);

  const fitView = useCallback(
    (whole: boolean): View | undefined => {
      if (!layout || !size.width) return undefined;
      const fit = Math.min(size.width / layout.width, size.height / layout.height);
      const k = whole
        ? Math.min(fit, MAX_START_SCALE)
        : Math.min(Math.max(fit, MIN_START_SCALE), MAX_START_SCALE);
      const x = layout.width * k <= size.width ? (size.width - layout.width * k) / 2 : 0;
      const y = layout.height * k <= size.height ? (size.height - layout.height * k) / 2 : 0;
      return { x, y, k };
    },
    [layout, size],
  );

  // A new layout or a resized box re-fits, unless the person has panned or zoomed.
  useEffect(() => {
    if (!moved.current) setView(fitView(false));
  }, [fitView]);

  const zoomAt = useCallback((factor: number, cx: number, cy: number) => {
    moved.current = true;
    setView((v) => {
      if (!v) return v;
      const k = Math.min(3, Math.max(0.15, v.k * factor));
      return { k, x: cx - ((cx - v.x) * k) / v.k, y: cy - ((cy - v.y) * k) / v.k };
    });
  }, []);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const onWheel = (e: WheelEvent): void => {
      if (!e.ctrlKey && !e.metaKey && Math.abs(e.deltaX) > Math.abs(e.deltaY)) return;
      e.preventDefault();
      const r = el.getBoundingClientRect();
      zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [zoomAt]);

  const drag = useRef<{ px: number; py: number; x: number; y: number } | undefined>(undefined);
  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>): void => {
    if (!view || e.button !== 0 || (e.target as Element).closest('[data-state-id], button')) return;
    drag.current = { px: e.clientX, py: e.clientY, x: view.x, y: view.y };
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>): void => {
    const d = drag.current;
    if (!d) return;
    moved.current = true;
    setView((v) => (v ? { ...v, x: d.x + e.clientX - d.px, y: d.y + e.clientY - d.py } : v));
  };
  const onPointerUp = (): void => {
    drag.current = undefined;
  };

  const status = useMemo(() => statusOf(props), [props]);

  return (
    <div className="diagram" style={{ height }} data-layout-lang={layouts?.lang}>
      <div
        ref={box}
        className="diagram-box"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
      >
        {layout && view ? (
          <DiagramCanvas
            layout={layout}
            view={view}
            status={status}
            label={pick({ zh: `状态图：${text(ir.title)}`, en: `Statechart: ${text(ir.title)}` })}
            {...(props.onSelectState ? { onSelectState: props.onSelectState } : {})}
          />
        ) : (
          <div className="diagram-placeholder" role="status">
            {error
              ? pick({ zh: `无法绘制状态图：${error}`, en: `The diagram could not be drawn: ${error}` })
              : pick({ zh: '正在绘制状态图…', en: 'Drawing the diagram…' })}
          </div>
        )}
      </div>
      {layout && view && (
        <div className="diagram-tools" role="toolbar" aria-label={pick({ zh: '缩放', en: 'Zoom' })}>
          <button
            type="button"
            onClick={() => zoomAt(1.25, size.width / 2, size.height / 2)}
            aria-label={pick({ zh: '放大', en: 'Zoom in' })}
          >
            +
          </button>
          <button
            type="button"
            onClick={() => zoomAt(0.8, size.width / 2, size.height / 2)}
            aria-label={pick({ zh: '缩小', en: 'Zoom out' })}
          >
            −
          </button>
          <button
            type="button"
            onClick={() => {
              moved.current = true;
              setView(fitView(true));
            }}
          >
            {pick({ zh: '全图', en: 'Fit' })}
          </button>
        </div>
      )}
      <DiagramLegend status={status} />
    </div>
  );
}

function DiagramLegend({ status }: { status: DiagramStatus }) {
  const { pick } = useI18n();
  return (
    <ul className="diagram-legend" aria-label={pick({ zh: '图例', en: 'Legend' })}>
      {status.active.size > 0 && (
        <li>
          <span className="swatch swatch-active" /> {pick({ zh: '当前状态', en: 'Current state' })}
        </li>
      )}
      {(status.visited.size > 0 || status.takenAny) && (
        <li>
          <span className="swatch swatch-visited" /> {pick({ zh: '已经过', en: 'Visited' })}
        </li>
      )}
      {status.highlight.size > 0 && (
        <li>
          <span className="swatch swatch-highlight" /> {pick({ zh: '反例路径', en: 'Counterexample path' })}
        </li>
      )}
    </ul>
  );
}

function statusOf(props: DiagramProps): DiagramStatus {
  const active = new Set(props.active ?? []);
  const visited = new Set(props.visited ?? []);
  for (const t of props.taken ?? []) {
    visited.add(t.from);
    visited.add(t.to);
  }
  const highlight = new Set(props.highlight ?? []);
  const pairs: { from: string; to: string }[] = [];
  const h = props.highlight ?? [];
  for (let i = 1; i < h.length; i++) pairs.push({ from: h[i - 1]!, to: h[i]! });
  return {
    active,
    visited,
    highlight,
    taken: props.taken ?? [],
    highlightSteps: pairs,
    takenAny: (props.taken ?? []).length > 0,
  };
}
