import { parseArgs } from 'node:util';

/** Bad command-line usage: the CLI prints the message and the command's help, then exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  /** Placeholder shown in help, e.g. FILE. */
  value?: string;
  multiple?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments as shown in help, e.g. `FILE...`; without it none are accepted. */
  positionals?: string;
}

export function helpText(command: CommandSpec): string {
  const usage = `Usage: jsm-sso ${command.name} [options]${command.positionals ? ` ${command.positionals}` : ''}`;
  const lines = [usage, '', command.summary, '', 'Options:'];
  const all: Record<string, OptionSpec> = {
    ...command.options,
    help: { type: 'boolean', description: 'Show this help.' },
  };
  for (const [name, spec] of Object.entries(all)) {
    const flag = `--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    lines.push(`  ${flag.padEnd(34)} ${spec.description}`);
  }
  return lines.join('\n');
}

export type ParsedOptions = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Parses argv strictly: unknown flags and missing values are UsageErrors. Returns undefined for --help. */
export function parseCommand(command: CommandSpec, argv: string[]): ParsedOptions | undefined {
  return parseCommandLine(command, argv)?.values;
}

/** Like parseCommand, with the positional arguments of a command that declares `positionals`. */
export function parseCommandLine(
  command: CommandSpec,
  argv: string[],
): { values: ParsedOptions; positionals: string[] } | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    help: { type: 'boolean' },
  };
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = spec.multiple ? { type: spec.type, multiple: true } : { type: spec.type };
  }
  let parsed: { values: ParsedOptions; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: Boolean(command.positionals) });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
  if (parsed.values['help']) {
    console.log(helpText(command));
    return undefined;
  }
  return parsed;
}

export function requireString(values: ParsedOptions, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function optionalPort(values: ParsedOptions, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || port > 65535) {
    throw new UsageError(`--${name} must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

export type CommandRun = (argv: string[]) => Promise<void>;

/** A subcommand, loaded lazily so a part never imports another part's dependencies. */
export interface Subcommand {
  summary: string;
  load: () => Promise<CommandRun>;
}

/** Runs `<prefix> <name> ...` from a table of subcommands; no name or --help prints the table. */
export async function runSubcommand(
  prefix: string,
  table: Record<string, Subcommand>,
  argv: string[],
): Promise<void> {
  const usage = [`Usage: ${prefix} <command> [options]`, '', 'Commands:'];
  for (const [name, { summary }] of Object.entries(table)) usage.push(`  ${name.padEnd(14)} ${summary}`);
  usage.push('', `Run \`${prefix} <command> --help\` for its options.`);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage.join('\n'));
    return;
  }
  const command = table[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}\n\n${usage.join('\n')}`);
  await (await command.load())(rest);
}

/** A small whole number flag (0 to 10), e.g. a count of proxies; `0` when absent. */
export function optionalCount(values: ParsedOptions, name: string): number {
  const raw = values[name];
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' || !/^\d{1,2}$/.test(raw) || Number(raw) > 10) {
    throw new UsageError(`--${name} must be a whole number from 0 to 10, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** A whole number from `min` to `max`; `fallback` when absent. */
export function optionalWholeNumber(
  values: ParsedOptions,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || value < range.min || value > range.max) {
    throw new UsageError(
      `--${name} must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** A duration in seconds (decimals allowed, 0 to `max`); `fallback` when absent. */
export function optionalSeconds(values: ParsedOptions, name: string, fallback: number, max = 300): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const seconds = Number(raw);
  if (typeof raw !== 'string' || !/^\d{1,3}(\.\d{1,3})?$/.test(raw) || seconds > max) {
    throw new UsageError(
      `--${name} must be a number of seconds from 0 to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return seconds;
}
