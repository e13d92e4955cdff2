/** Admin pages: the definitions list and the definition editor (wired into the router by the shell). */
export { DefinitionsPage } from './DefinitionsPage.tsx';
export { DefinitionEditorPage } from './DefinitionEditorPage.tsx';
