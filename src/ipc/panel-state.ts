// The panel's state as it may be kept: VS Code writes a webview's state (setState) to disk, and the host keeps a
// copy to restore the panel. Both sides store only what redactPanelState returns, so a login code or password typed
// in the query editor never reaches the disk. The policy is the one of src/tl/secret-fields.ts.
import { redactSecrets, SECRET_FIELDS } from '../tl/secret-fields';
import type { PanelState } from './models';

const SECRET_TEXT_RE = new RegExp(`"(${[...SECRET_FIELDS].join('|')})"(\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"?|[^,}\\]\\s]+)`, 'g');

/**
 * A query as the user typed it (JSON text): secret fields' values become "[redacted]". Text that parses is redacted
 * like a payload (constructor-bound fields too) and left as typed when nothing secret is in it; text that does not
 * parse (typing in progress) has the values of secret field names replaced in place.
 */
export function redactJsonText(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text.replace(SECRET_TEXT_RE, (_m, k: string, sep: string) => `"${k}"${sep}"[redacted]"`);
  }
  const cleaned = redactSecrets(parsed);
  return JSON.stringify(cleaned) === JSON.stringify(parsed) ? text : JSON.stringify(cleaned, null, 2);
}

/** The panel's state with the query being edited and the query history redacted. Never mutates. */
export function redactPanelState(state: PanelState): PanelState {
  const out: PanelState = { ...state };
  if (state.query?.json !== undefined) out.query = { ...state.query, json: redactJsonText(state.query.json) };
  if (state.history) out.history = state.history.map((h) => ({ ...h, query: redactSecrets(h.query) as typeof h.query }));
  return out;
}
