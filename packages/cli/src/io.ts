/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (spinners and colour are only for people). */
  readonly interactive: boolean;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  get interactive() {
    // A terminal with a known width (a spinner redraws by columns) and not a CI log.
    return process.stderr.isTTY === true && (process.stderr.columns ?? 0) > 0 && process.env.CI === undefined;
  },
};

/** Resolves once stdout and stderr have handed everything to the OS (before `process.exit`). */
export function flushOutput(): Promise<void> {
  const drain = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => stream.write('', () => resolve()));
  return Promise.all([drain(process.stdout), drain(process.stderr)]).then(() => undefined);
}

/** How to call this CLI again in a hint: `npx baton` or `baton` when installed as such, else the script. */
export function selfCommand(): string {
  const script = process.argv[1] ?? '';
  if (/node_modules[\\/]\.bin[\\/]baton$/.test(script)) return 'npx baton';
  if (/(^|[\\/])baton$/.test(script)) return 'baton';
  const relative = script.startsWith(`${process.cwd()}/`) ? script.slice(process.cwd().length + 1) : script;
  return relative.endsWith('.ts') ? `node --import tsx ${relative}` : `node ${relative}`;
}
