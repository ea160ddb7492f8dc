import type { ErrorCode } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';

/**
 * Errors with a stable `code` that tests assert, logs carry and metrics count. The message is
 * English, for operators and logs; the code is the contract. A page shows a person the catalogue's
 * text for the code (common/i18n), filled with `params`: never the message. `status` is the HTTP
 * status a public endpoint answers with.
 */
export class JsmSsoError extends Error {
  /** One of the closed sets in error-codes.ts; subclasses narrow it to their own set. */
  readonly code: ErrorCode;
  readonly status: number;
  /**
   * Where the fault is, for the log line an operator reads: names only (a Secret and its key, a
   * field), never a value, so it may be logged as it is.
   */
  readonly where: Readonly<Record<string, string>> | undefined;
  /** What the person's message about this error needs (a limit, their file's name): shown, never logged. */
  readonly params: Readonly<Record<string, string | number>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      status?: number;
      cause?: unknown;
      where?: Record<string, string>;
      params?: Record<string, string | number>;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JsmSsoError';
    this.code = code;
    this.status = options.status ?? 400;
    this.where = options.where;
    this.params = options.params ?? {};
  }
}

/** A configuration problem found before anything starts; `problems` name each bad field. */
export class ConfigError extends JsmSsoError {
  readonly problems: readonly ConfigProblem[];
  /**
   * The document the problems are in, as the command line names it ("the tenant configuration is
   * invalid"): a person who passed a JSM emulator seed should not be sent to look at a tenant.
   */
  readonly subject: string;

  constructor(problems: readonly ConfigProblem[], subject = 'the tenant configuration') {
    super('CONFIG_INVALID', problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
    this.subject = subject;
  }
}

export interface ConfigProblem {
  /** Field path in the document, e.g. `spec.identityProviders[0].oidc.issuer`. */
  path: string;
  message: string;
  /** Set when the problem has its own reason (a CEL expression that does not compile: MAPPING_INVALID). */
  code?: ErrorCode;
}
