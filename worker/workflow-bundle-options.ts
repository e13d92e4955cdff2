/**
 * How the workflow bundle is shaped to take less memory in the worker (README "Memory", third
 * pass). The SDK keeps the bundle's text in the main thread and compiles it in the workflow
 * thread, where it also parses the bundle's inline source map to map workflow stack traces.
 *
 * - **ASCII only.** A JavaScript string with one character above U+00FF is stored by V8 as two
 *   bytes per character: the bundle's ~1,300 non-ASCII characters (Chinese texts, typographic
 *   dashes in comments) made all of its ~7 MB two-byte. `asciiOnly` writes each as a `\uXXXX`
 *   escape, which means the same character in every place the bundle has one: string literals,
 *   template literals' values, regular expressions, identifiers, comments.
 * - **A smaller inline source map.** The SDK requires one (it refuses a bundle without) and uses it
 *   to name the source file and line of each frame of a workflow's stack. Without the sources'
 *   text (`nosources`: 2.4 MB of the 3.3 MB map) and with line mappings only (`cheap-module`: a
 *   frame names the original file and line, not the column) it still does that.
 */

/** Webpack's `devtool` for the workflow bundle (the SDK's own: `inline-source-map`). */
export const WORKFLOW_BUNDLE_DEVTOOL = 'inline-nosources-cheap-module-source-map';

/**
 * `code` with every character above U+007F written as a `\uXXXX` escape (a character above
 * U+FFFF as its two surrogates). Refused where an escape would not mean the same character:
 * after a backslash (`"\é"`), and in a `String.raw` template, whose raw text would change.
 */
export function asciiOnly(code: string): string {
  // eslint-disable-next-line no-control-regex -- the complement of ASCII is what is matched
  const nonAscii = /[^\u0000-\u007f]/g;
  return code.replace(nonAscii, (ch, offset: number) => {
    if (code[offset - 1] === '\\')
      throw new Error(`workflow bundle: a backslash before a non-ASCII character at ${offset}`);
    const lineStart = code.lastIndexOf('\n', offset) + 1;
    const lineEnd = code.indexOf('\n', offset);
    if (code.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).includes('String.raw'))
      throw new Error(`workflow bundle: a non-ASCII character on a line with String.raw at ${offset}`);
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Whether V8 can keep `text` as a one-byte string (no character above U+00FF). */
export function isOneByte(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- Latin-1 is what is matched
  return /^[\u0000-\u00ff]*$/.test(text);
}
