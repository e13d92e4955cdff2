/**
 * Statechart layout: procedure IR → ELK graph (layered, hierarchical) → a flat render model with
 * absolute coordinates. Pure apart from the ELK call; the text of labels is passed in already
 * translated, so the same IR lays out again when the language changes.
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk.bundled.js';
import type { ProcedureIR, StateIR, Text } from '../../../workflows/core/ir.ts';
import { indexStates, isLeaf, walkStates } from '../../../workflows/core/ir-walk.ts';
import { callEdges, type CallTexts } from './call-edges.ts';

export type StateKind = 'atomic' | 'compound' | 'parallel' | 'final';

export interface LaidState {
  /** Dotted state path, as in the runtime's leaves. */
  id: string;
  kind: StateKind;
  /** A region of a parallel state (drawn dashed). */
  region: boolean;
  title: string;
  /** Its `sla:` in words (due, reminders, escalations), when it has one. */
  sla?: string;
  x: number;
  y: number;
  width: number;
  height: number;
  depth: number;
}

export interface LaidEdge {
  id: string;
  /** Source state path. */
  from: string;
  /** Target state path. */
  to: string;
  /** Event type, `after <duration>` for a timer, absent for an initial-state arrow. */
  event?: string;
  /** `done`: the state's `on_done`; `eventless`: an `always` transition. */
  kind: 'event' | 'timer' | 'initial' | 'done' | 'eventless' | 'call';
  label: string;
  /** Extra details for the tooltip (roles, guard). */
  detail: string;
  points: { x: number; y: number }[];
  labelBox?: { x: number; y: number; width: number; height: number };
}

export interface LaidInitial {
  id: string;
  /** The compound state whose initial child it points at. */
  parent: string;
  x: number;
  y: number;
  size: number;
}

export interface Layout {
  width: number;
  height: number;
  states: LaidState[];
  edges: LaidEdge[];
  initials: LaidInitial[];
}

export interface LayoutTexts {
  text(t: Text | undefined): string;
  /** A timer's label, e.g. "after 2 d". */
  after(delay: string): string;
  /** The label of an `on_done` transition ("when done"). */
  done: string;
  /** The label of an `always` transition ("automatically"). */
  always: string;
  /** Labels of a call's failed and cancelled outcomes (`call-edges.ts`). */
  call?: CallTexts;
  /** A state's `sla:` in words (absent: not shown). */
  sla?(state: StateIR): string | undefined;
}

const STATE_FONT = 13;
const LABEL_FONT = 11;
const INITIAL_SIZE = 12;

/** Split a label into lines no wider than `max` px (at breaks between words, or anywhere in CJK). */
export function wrapText(text: string, fontSize: number, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  const tokens = text.match(/[\u2e80-\uffff]|[^\s\u2e80-\uffff]+\s*|\s+/g) ?? [text];
  for (const tok of tokens) {
    if (line && textWidth(line + tok.trimEnd(), fontSize) > max) {
      lines.push(line.trimEnd());
      line = tok.trimStart();
    } else line += tok;
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines.length ? lines : [''];
}

/** Rough text width in px (CJK glyphs are about one em, Latin about 0.56 em). */
export function textWidth(text: string, fontSize: number): number {
  let w = 0;
  for (const ch of text) w += ch.codePointAt(0)! > 0x2e80 ? fontSize : fontSize * 0.58;
  return Math.ceil(w);
}

const initialId = (parent: string): string => `__initial:${parent}`;

function buildNode(state: StateIR, texts: LayoutTexts): ElkNode {
  const title = texts.text(state.title) || state.key;
  const children = Object.values(state.states);
  const titleWidth = textWidth(title, STATE_FONT) + 28;
  if (!children.length)
    return { id: state.path, width: Math.max(96, titleWidth), height: state.type === 'final' ? 40 : 36 };
  const kids: ElkNode[] = [];
  if (state.initial && state.type !== 'parallel')
    kids.push({ id: initialId(state.path), width: INITIAL_SIZE, height: INITIAL_SIZE });
  for (const child of children) kids.push(buildNode(child, texts));
  return {
    id: state.path,
    children: kids,
    layoutOptions: {
      'elk.padding': '[top=34,left=14,bottom=14,right=14]',
      'elk.nodeSize.constraints': 'MINIMUM_SIZE',
      'elk.nodeSize.minimum': `(${titleWidth}, 60)`,
    },
  };
}

interface EdgeMeta {
  from: string;
  to: string;
  event?: string;
  kind: LaidEdge['kind'];
  label: string;
  detail: string;
}

function collectEdges(ir: ProcedureIR, texts: LayoutTexts): EdgeMeta[] {
  const out: EdgeMeta[] = [];
  for (const node of walkStates(ir.root)) {
    if (node.initial && node.type !== 'parallel') {
      const target = node.path ? `${node.path}.${node.initial}` : node.initial;
      out.push({ from: initialId(node.path), to: target, kind: 'initial', label: '', detail: '' });
    }
    if (node.path !== '') {
      for (const [event, list] of Object.entries(node.on))
        for (const t of list) {
          if (t.target === undefined || t.target === '') continue;
          const roles = t.roles.map((r) => texts.text(ir.roles[r]) || r).join(', ');
          const detail = [event, roles, t.guard ? `[${t.guard}]` : ''].filter(Boolean).join(' · ');
          const title = texts.text(ir.events[event]?.title) || event;
          out.push({
            from: node.path,
            to: t.target,
            event,
            kind: 'event',
            label: t.guard ? `${title} ◇` : title,
            detail,
          });
        }
      for (const [kind, list] of [
        ['done', node.onDone ?? []],
        ['eventless', node.always ?? []],
      ] as const)
        for (const t of list) {
          if (t.target === undefined || t.target === '') continue;
          const base = kind === 'done' ? texts.done : texts.always;
          const name = kind === 'done' ? 'on_done' : 'always';
          out.push({
            from: node.path,
            to: t.target,
            event: name,
            kind,
            label: t.guard ? `${base} ◇` : base,
            detail: t.guard ? `${name} [${t.guard}]` : name,
          });
        }
      out.push(...callEdges(node, texts.call));
      for (const t of node.after) {
        if (t.target === undefined || t.target === '') continue;
        out.push({
          from: node.path,
          to: t.target,
          event: `after ${t.delay}`,
          kind: 'timer',
          label: texts.after(t.delay),
          detail: t.guard ? `after ${t.delay} [${t.guard}]` : `after ${t.delay}`,
        });
      }
    }
  }
  return out;
}

export const LABEL_LINE = LABEL_FONT + 3;
const LABEL_MAX = 130;

function labelSize(text: string): { text: string; width: number; height: number } {
  const lines = wrapText(text, LABEL_FONT, LABEL_MAX);
  const width = Math.max(...lines.map((l) => textWidth(l, LABEL_FONT))) + 8;
  return { text, width, height: lines.length * LABEL_LINE + 4 };
}

/** Wrapped lines of an edge label, as laid out. */
export function labelLines(text: string): string[] {
  return wrapText(text, LABEL_FONT, LABEL_MAX);
}

const elk = new ELK();

/** Lay out a procedure's statechart. Throws only if ELK does. */
export async function layoutProcedure(
  ir: ProcedureIR,
  texts: LayoutTexts,
  direction: 'RIGHT' | 'DOWN' = 'RIGHT',
): Promise<Layout> {
  const metas = collectEdges(ir, texts);
  const edges: ElkExtendedEdge[] = metas.map((m, i) => ({
    id: `e${i}`,
    sources: [m.from],
    targets: [m.to],
    labels: m.label ? [labelSize(m.label)] : [],
  }));
  const top = Object.values(ir.root.states).map((s) => buildNode(s, texts));
  if (ir.root.initial) top.unshift({ id: initialId(''), width: INITIAL_SIZE, height: INITIAL_SIZE });
  const graph: ElkNode = {
    id: '__root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '28',
      'elk.layered.spacing.nodeNodeBetweenLayers': '56',
      'elk.layered.spacing.edgeNodeBetweenLayers': '18',
      'elk.spacing.edgeLabel': '3',
      'elk.spacing.edgeEdge': '12',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
    },
    children: top,
    edges,
  };
  const laid = await elk.layout(graph);
  return toModel(ir, laid, metas, texts);
}

function toModel(ir: ProcedureIR, laid: ElkNode, metas: EdgeMeta[], texts: LayoutTexts): Layout {
  const states: LaidState[] = [];
  const initials: LaidInitial[] = [];
  const byPath = indexStates(ir.root);
  const walk = (node: ElkNode, depth: number): void => {
    for (const child of node.children ?? []) {
      const x = child.x ?? 0;
      const y = child.y ?? 0;
      if (child.id.startsWith('__initial:')) {
        initials.push({ id: child.id, parent: child.id.slice(10), x, y, size: child.width ?? INITIAL_SIZE });
        continue;
      }
      const s = byPath.get(child.id);
      if (!s) continue;
      const parent = byPath.get(s.path.includes('.') ? s.path.slice(0, s.path.lastIndexOf('.')) : '');
      states.push({
        id: s.path,
        kind: s.type === 'compound' && isLeaf(s) ? 'atomic' : s.type,
        region: parent?.type === 'parallel',
        title: texts.text(s.title) || s.key,
        ...(texts.sla?.(s) ? { sla: texts.sla(s) } : {}),
        x,
        y,
        width: child.width ?? 0,
        height: child.height ?? 0,
        depth,
      });
      walk(child, depth + 1);
    }
  };
  walk(laid, 0);
  const edges: LaidEdge[] = [];
  for (const e of (laid.edges ?? []) as ElkExtendedEdge[]) {
    const meta = metas[Number(e.id.slice(1))];
    const section = e.sections?.[0];
    if (!meta || !section) continue;
    const label = e.labels?.[0];
    edges.push({
      id: e.id,
      ...meta,
      points: [section.startPoint, ...(section.bendPoints ?? []), section.endPoint],
      ...(label && label.x !== undefined && label.y !== undefined
        ? {
            labelBox: { x: label.x, y: label.y, width: label.width ?? 0, height: label.height ?? 0 },
          }
        : {}),
    });
  }
  return { width: laid.width ?? 0, height: laid.height ?? 0, states, edges, initials };
}
