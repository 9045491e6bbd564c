// Offsets, lines and ranges of a request file. Every position in this module is a 0-based character offset into
// the file text (the VS Code side converts with document.positionAt); lines are split on \r\n, \n or \r.

export interface TextRange {
  start: number;
  /** Exclusive. */
  end: number;
}

export interface SourceLine {
  /** 0-based line number. */
  index: number;
  /** Offset of the first character. */
  start: number;
  /** Offset just past the last character (the line break is not part of the line). */
  end: number;
  text: string;
}

export function splitLines(text: string): SourceLine[] {
  const lines: SourceLine[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const ch = text.charCodeAt(i);
    if (i === text.length || ch === 10 || ch === 13) {
      lines.push({ index: lines.length, start, end: i, text: text.slice(start, i) });
      if (ch === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
  }
  return lines;
}

/** 0-based line and column of an offset. */
export function lineColumnAt(lines: readonly SourceLine[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines[mid]!.start <= offset) lo = mid;
    else hi = mid - 1;
  }
  const line = lines[lo]!;
  return { line: line.index, column: Math.max(0, Math.min(offset, line.end) - line.start) };
}

/** The line holding `offset` (an offset on a line break belongs to the line it ends). */
export function lineAt(lines: readonly SourceLine[], offset: number): SourceLine {
  return lines[lineColumnAt(lines, offset).line]!;
}

export function range(start: number, end: number): TextRange {
  return { start, end };
}

/** Offset range of `line.text` without its leading and trailing whitespace. */
export function trimmedRange(line: SourceLine): TextRange {
  const lead = line.text.length - line.text.trimStart().length;
  const trail = line.text.length - line.text.trimEnd().length;
  return { start: line.start + lead, end: Math.max(line.start + lead, line.end - trail) };
}
