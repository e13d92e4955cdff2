import { validateProcedureText } from '../../workflows/core/validate.ts';

/** Placeholder shell: replaced by the real application shell (routes, session, pages). */
export function App() {
  const r = validateProcedureText('id: x\n', 'draft.yaml');
  return (
    <main>
      <h1>Custodia</h1>
      <p>core loaded in the browser: {r.diagnostics.length} diagnostic(s) for a one-line draft</p>
    </main>
  );
}
