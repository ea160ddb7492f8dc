import type { Duplex } from 'node:stream';
import { SentinelConnector } from 'ioredis';

/**
 * A Redis connection silent for ioredis's socketTimeout (2 s) with commands pending is dropped: its
 * timer calls `stream.destroy(error)` (its only destroy with an error). Node runs due timers before
 * it polls sockets, so when this process itself was held past 2 s (an event loop blocked, a SIGSTOP,
 * a node frozen) the timer went first and the connection was dropped with Redis's answer unread in
 * it, although Redis had done the command: a GETDEL had taken the flow state, a SET NX written the
 * replay marker, and the caller, told 503, found on its retry the flow gone or the marker "used".
 * Here that destroy waits one turn of the event loop, past its I/O poll (as the command deadline
 * does, ADR 0214): when the connection answered meanwhile it is kept (ioredis arms its timer again
 * for commands still pending), and a silent one is dropped as before (ADR 0259).
 */
export function droppedOnlyWhenSilent<S extends Duplex>(stream: S): S {
  const destroy = stream.destroy.bind(stream);
  stream.destroy = (error?: Error) => {
    if (!error) return destroy();
    let answered = false;
    const onData = () => {
      answered = true;
    };
    stream.once('data', onData);
    setImmediate(() => {
      stream.off('data', onData);
      if (!answered) destroy(error);
    });
    return stream;
  };
  return stream;
}

/** ioredis's Sentinel connector, its connection to the master or replica guarded the same way. */
export class SilenceCheckedSentinelConnector extends SentinelConnector {
  // ioredis hands a Connector its connection's options untyped (RedisOptions, with `sentinels`).
  constructor(options: unknown) {
    super(options as ConstructorParameters<typeof SentinelConnector>[0]);
  }

  override async connect(...args: Parameters<SentinelConnector['connect']>) {
    return droppedOnlyWhenSilent(await super.connect(...args));
  }
}
