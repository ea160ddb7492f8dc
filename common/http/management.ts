import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { type RunningServer, type ServerTls, startServer } from './server.js';

/**
 * The management port: /metrics, /healthz (the process is alive) and /readyz (its dependencies
 * answer). It is never the public port, so metrics and health stay off the Internet.
 */
export interface ManagementOptions {
  port: number;
  host: string;
  registry: Registry;
  logger: Logger;
  /** Resolves when every dependency answers; the rejection's message is shown on /readyz. */
  ready: () => Promise<void>;
  tls?: ServerTls;
  /** The flag that sets the port, named if it cannot be opened (default `--management-port`). */
  portFlag?: string;
}

export function managementHandler(options: Pick<ManagementOptions, 'registry' | 'ready'>) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    if (path === '/healthz') return send(res, 200, 'ok\n');
    if (path === '/readyz') {
      try {
        await options.ready();
        return send(res, 200, 'ok\n');
      } catch (err) {
        return send(res, 503, `not ready: ${(err as Error).message}\n`);
      }
    }
    if (path === '/metrics') {
      res.setHeader('content-type', options.registry.contentType);
      return send(res, 200, await options.registry.metrics());
    }
    return send(res, 404, 'not found\n');
  };
}

function send(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(body);
}

export function startManagementServer(options: ManagementOptions): Promise<RunningServer> {
  return startServer({
    name: 'management',
    handler: (req, res) => void managementHandler(options)(req, res),
    port: options.port,
    host: options.host,
    logger: options.logger,
    portFlag: options.portFlag ?? '--management-port',
    ...(options.tls ? { tls: options.tls } : {}),
  });
}
