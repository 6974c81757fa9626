/** Collects what an example writes, so a test can read its report and its progress lines. */
export function capture(): {
  out: (text: string) => void;
  progress: (line: string) => void;
  stdout: () => string;
  lines: string[];
} {
  const outs: string[] = [];
  const lines: string[] = [];
  return {
    out: (text) => outs.push(text),
    progress: (line) => lines.push(line),
    stdout: () => outs.join('\n'),
    lines,
  };
}
