import { JsmSsoError } from '../errors.js';

/**
 * Why a listener cannot open its port, as the system says it: another process holds it, the process
 * may not open it (below 1024 without CAP_NET_BIND_SERVICE, as a hardened pod runs), or the address
 * is not this host's. Each is the operator's to fix, by the flag that set the port.
 */
const PORT_REFUSALS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

/** The exit code of a process that stops because a port cannot be opened (documented in README.md). */
export const EXIT_PORT_UNAVAILABLE = 3;

/** What a listener is, for the line that says it cannot open its port. */
export interface ListenerOf {
  server: string;
  host: string;
  port: number;
  /** The command-line flag that sets the port, named in the line so the operator knows what to change. */
  flag?: string;
}

/** A port the process is to listen on cannot be opened; logged once where it happened. */
export class PortUnavailableError extends JsmSsoError {
  readonly listener: ListenerOf;
  readonly systemCode: string;

  constructor(listener: ListenerOf, systemCode: string, cause: unknown) {
    const { server, host, port, flag } = listener;
    super(
      'PORT_UNAVAILABLE',
      `the ${server} server cannot listen on ${host}:${port} (${systemCode})${flag ? `; its port is set by ${flag}` : ''}`,
      { status: 500, cause },
    );
    this.name = 'PortUnavailableError';
    this.listener = listener;
    this.systemCode = systemCode;
  }
}

/** The listen error as a PortUnavailableError when it is one of the port refusals; else undefined. */
export function portUnavailable(listener: ListenerOf, err: unknown): PortUnavailableError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && PORT_REFUSALS.has(code)
    ? new PortUnavailableError(listener, code, err)
    : undefined;
}
