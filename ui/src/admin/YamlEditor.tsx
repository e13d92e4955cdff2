/**
 * The YAML editor (CodeMirror 6): the draft text flows out through `onChange`; diagnostics flow
 * in and are shown as lint marks (gutter + underline, message with code and hint). A parent
 * jumps to a line through the `jumpRef` handle.
 */
import { useEffect, useRef, type MutableRefObject } from 'react';
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { EditorState, type Text as CmText } from '@codemirror/state';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import {
  bracketMatching,
  defaultHighlightStyle,
  foldGutter,
  indentOnInput,
  syntaxHighlighting,
} from '@codemirror/language';
import type { Diagnostic } from '../../../workflows/core/diagnostics.ts';

export interface EditorHandle {
  jumpTo(line: number, column: number): void;
}

/** Offset range of a diagnostic: from its line and column to the end of the token there. */
function rangeOf(doc: CmText, line: number, column: number): { from: number; to: number } {
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  const from = Math.min(l.from + Math.max(column - 1, 0), l.to);
  const rest = doc.sliceString(from, l.to);
  const token = /^[^\s,[\]{}]+/.exec(rest)?.[0].length ?? 0;
  const to = token > 0 ? from + token : l.to > from ? l.to : from;
  return { from, to };
}

function toCm(doc: CmText, diagnostics: readonly Diagnostic[]): CmDiagnostic[] {
  return diagnostics.map((d) => ({
    ...rangeOf(doc, d.line, d.column),
    severity: d.severity,
    source: d.code,
    message: `line ${d.line}: ${d.message}${d.hint ? `\nHint: ${d.hint}` : ''}`,
  }));
}

export function YamlEditor(props: {
  value: string;
  onChange: (text: string) => void;
  diagnostics: readonly Diagnostic[];
  jumpRef: MutableRefObject<EditorHandle | undefined>;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          lineNumbers(),
          history(),
          keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
          highlightSelectionMatches(),
          highlightActiveLineGutter(),
          foldGutter(),
          drawSelection(),
          highlightActiveLine(),
          indentOnInput(),
          bracketMatching(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          EditorView.lineWrapping,
          yaml(),
          lintGutter(),
          EditorState.tabSize.of(2),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    props.jumpRef.current = {
      jumpTo(line, column) {
        const { from } = rangeOf(v.state.doc, line, column);
        v.dispatch({ selection: { anchor: from }, scrollIntoView: true });
        v.focus();
      },
    };
    return () => {
      v.destroy();
      view.current = undefined;
    };
    // The editor is created once; `value` changes from outside are applied below.
  }, []);

  // Text replaced from outside (loaded, reset to the deployed version).
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== props.value)
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
  }, [props.value]);

  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, toCm(v.state.doc, props.diagnostics)));
  }, [props.diagnostics]);

  return <div ref={host} className="yaml-editor" />;
}
