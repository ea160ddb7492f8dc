// The emulated Atlassian JSM Cloud site as a library: `createJsmEmulator` for an in-process handler,
// `startJsmEmulator` for a listening server. Tests and `npm start` embed it; the CLI wraps it.
import type { RequestListener } from 'node:http';
import express, { type Express } from 'express';
import { type ServerTls, startServer } from '../../common/http/server.js';
import { createLogger, type Logger } from '../../common/log.js';
import { applyFault, type FaultControl, type FaultRule, Faults } from './faults.js';
import { ApiError, authenticate, errorHandler, jsonBody } from './http.js';
import { avatarRoutes } from './routes/avatars.js';
import { directoryRoutes } from './routes/directory.js';
import { platformRoutes } from './routes/platform.js';
import { requestRoutes } from './routes/requests.js';
import { serviceDeskRoutes } from './routes/servicedesk.js';
import { loadDefaultSeed, type Seed } from './seed.js';
import { buildState, type EmulatorState } from './state.js';

export interface JsmEmulatorOptions {
  /** The site's content; default: `dev/jsm-emulator/default-seed.yaml`. */
  seed?: Seed;
  /** Initial fault rules (see FaultRule). */
  faults?: FaultRule[];
  /** Serve the HTTP control API under `/__emulator/` (dev mode only; never on by default). */
  devControl?: boolean;
  /** Told of every API call once answered (tests count what a client asked). */
  onCall?: (call: EmulatorCall) => void;
}

export interface EmulatorCall {
  method: string;
  /** Path without the query. */
  path: string;
  status: number;
  /** When the call arrived and when its answer was finished (`performance.now()`, ms): benches in one process. */
  arrivedAt: number;
  answeredAt: number;
}

export interface JsmEmulator {
  handler: RequestListener & Express;
  /** The live in-memory site; `reset()` rebuilds it from the seed. */
  readonly state: EmulatorState;
  faults: FaultControl;
  reset(): void;
}

export function createJsmEmulator(options: JsmEmulatorOptions = {}): JsmEmulator {
  const seed = options.seed ?? loadDefaultSeed();
  let state = buildState(seed);
  const faults = new Faults();
  faults.set(...(options.faults ?? []));
  const emulator: JsmEmulator = {
    handler: express(),
    get state() {
      return state;
    },
    faults,
    reset() {
      state = buildState(seed);
      faults.clear();
    },
  };
  const app = emulator.handler;
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.set('trust proxy', false);

  if (options.devControl) app.use('/__emulator', controlRoutes(emulator));

  const { onCall } = options;
  if (onCall) {
    app.use((req, res, next) => {
      const { method, path } = req;
      const arrivedAt = performance.now();
      res.on('finish', () =>
        onCall({ method, path, status: res.statusCode, arrivedAt, answeredAt: performance.now() }),
      );
      next();
    });
  }
  const json = express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] });
  app.use(async (req, res, next) => {
    const rule = faults.take(req.method, req.path);
    // Atlassian has a request once it has arrived: one held is read first, so that a caller giving up
    // meanwhile (its deadline) does not take back a write Atlassian goes on to make.
    if (rule?.heldUntil) {
      const unread = await new Promise<unknown>((read) => json(req, res, read));
      if (unread) return next(unread);
    }
    if (rule && (await applyFault(rule, req, res))) return;
    next();
  });
  app.use(json);
  // State is swapped by reset(), so routers are built per state and looked up per request.
  let routers = routesFor(state);
  let routedState = state;
  app.use((req, res, next) => {
    if (routedState !== state) {
      routers = routesFor(state);
      routedState = state;
    }
    authenticate(state)(req, res, () => {
      if (req.path.startsWith('/rest/servicedeskapi/')) routers.servicedesk(req, res, next);
      else if (req.path.startsWith('/rest/api/3/')) routers.platform(req, res, next);
      else if (req.path.startsWith('/rest/api/2/universal_avatar/')) routers.avatars(req, res, next);
      else next();
    });
  });
  app.use((req, _res) => {
    throw new ApiError(
      404,
      `No emulated resource at ${req.method} ${req.path}.`,
      'sd.emulator.error.no.resource',
    );
  });
  app.use(errorHandler);
  return emulator;
}

function routesFor(state: EmulatorState) {
  const servicedesk = express.Router();
  servicedesk.use(
    '/rest/servicedeskapi',
    serviceDeskRoutes(state),
    requestRoutes(state),
    directoryRoutes(state),
  );
  const platform = express.Router();
  platform.use('/rest/api/3', platformRoutes(state));
  const avatars = express.Router();
  avatars.use('/rest/api/2', avatarRoutes());
  return { servicedesk, platform, avatars };
}

/** `/__emulator/faults` (GET list, PUT replace with a rule or an array, DELETE clear) and `/__emulator/reset`. */
function controlRoutes(emulator: JsmEmulator) {
  const r = express.Router();
  r.use(express.json());
  r.get('/faults', (_req, res) => {
    res.json({ rules: emulator.faults.list(), hits: emulator.faults.hits() });
  });
  r.put('/faults', (req, res) => {
    const body: unknown = req.body;
    const rules = (Array.isArray(body) ? body : [jsonBody(req)]) as FaultRule[];
    try {
      emulator.faults.set(...rules);
    } catch (err) {
      throw new ApiError(400, (err as Error).message, 'emulator.control.fault.invalid');
    }
    res.status(204).end();
  });
  r.delete('/faults', (_req, res) => {
    emulator.faults.clear();
    res.status(204).end();
  });
  r.post('/reset', (_req, res) => {
    emulator.reset();
    res.status(204).end();
  });
  return r;
}

export interface StartJsmEmulatorOptions extends JsmEmulatorOptions {
  port?: number;
  host?: string;
  logger?: Logger;
  /** Serve HTTPS (an Atlassian site behind a private CA, for the tenant's caBundleSecretRef). */
  tls?: ServerTls;
}

export interface RunningJsmEmulator extends JsmEmulator {
  /** `http://127.0.0.1:PORT` (https with `tls`): the "Atlassian site URL" to configure clients with. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startJsmEmulator(options: StartJsmEmulatorOptions = {}): Promise<RunningJsmEmulator> {
  const emulator = createJsmEmulator(options);
  const logger = options.logger ?? createLogger({ component: 'jsm-emulator', level: 'warn' });
  const server = await startServer({
    name: 'jsm-emulator',
    handler: emulator.handler,
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    logger,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  return {
    handler: emulator.handler,
    get state() {
      return emulator.state;
    },
    faults: emulator.faults,
    reset: () => emulator.reset(),
    url: server.url,
    port: server.port,
    close: () => server.close(1000),
  };
}
