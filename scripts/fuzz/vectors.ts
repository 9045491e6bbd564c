// Regression vectors: hex text, `#` lines are comments (what the input did when it was found).

/** The bytes of a vector file (hex, whitespace and `#` comment lines ignored). */
export function readVector(text: string): Uint8Array {
  const hex = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error('a vector file holds hex bytes');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** A vector file: the comments, then the hex in lines of 64 characters. */
export function formatVector(hex: string, comments: string[]): string {
  const lines = comments.flatMap((c) => c.split('\n')).map((c) => `# ${c}`);
  for (let i = 0; i < hex.length; i += 64) lines.push(hex.slice(i, i + 64));
  if (hex.length === 0) lines.push('');
  return `${lines.join('\n')}\n`;
}
