// Keycloak as an independent OIDC IdP: the dist that .ci/keycloak.sh keeps (CI exports its kc.sh as
// JSM_SSO_KEYCLOAK), started in dev mode on loopback with an in-memory H2, one realm created over
// its admin REST API.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { ciTool } from './peers.js';

/**
 * How long Keycloak may take to print its 'Listening on' line: a guard against a hang, not a speed
 * bound. A warm start takes 30-70 s on the CI machine (2 cores, shared with the suite), and was seen
 * past 180 s at a load average of 15; a cold one would add its dev-mode build, which .ci/keycloak.sh
 * has done already.
 */
export const KEYCLOAK_START_DEADLINE_MS = 360_000;

export interface Keycloak {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Creates a realm from its JSON representation (Keycloak's RealmRepresentation). */
  createRealm(realm: Record<string, unknown>): Promise<void>;
  /** An access token of the master realm's admin, for the admin REST API. */
  adminToken(): Promise<string>;
  /** What Keycloak printed, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

export async function startKeycloak(): Promise<Keycloak> {
  const kcSh = ciTool('JSM_SSO_KEYCLOAK', 'keycloak.sh');
  const admin = { username: 'admin', password: randomBytes(12).toString('base64url') };
  console.log(
    `keycloak: starting ${kcSh}; waiting up to ${KEYCLOAK_START_DEADLINE_MS / 1000} s for its 'Listening on' line`,
  );
  const started = Date.now();
  const child: ChildProcess = spawn(
    kcSh,
    // Port 0: Quarkus takes a free port and names it in its 'Listening on' line.
    ['start-dev', '--http-host=127.0.0.1', '--http-port=0', '--db=dev-mem'],
    {
      // Its own process group: kc.sh runs java as its child, and both must end with the test.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
        KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx512m',
      },
    },
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  };
  const lines = createInterface({ input: child.stdout! });
  let deadline: NodeJS.Timeout | undefined;
  const url = await Promise.race([
    new Promise<string>((resolve) => {
      lines.on('line', (line) => {
        output += `${line}\n`;
        const listening = /Listening on: (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (listening) resolve(listening[1]!);
      });
    }),
    exited.then(() => {
      throw new Error(`Keycloak exited before it listened:\n${output}`);
    }),
    new Promise<never>((_resolve, reject) => {
      deadline = setTimeout(
        () =>
          reject(new Error(`Keycloak did not listen within ${KEYCLOAK_START_DEADLINE_MS} ms:\n${output}`)),
        KEYCLOAK_START_DEADLINE_MS,
      );
    }),
  ]).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  clearTimeout(deadline);
  console.log(`keycloak: listening at ${url} after ${Math.round((Date.now() - started) / 1000)} s`);

  const adminToken = async () => {
    const res = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', ...admin }),
    });
    if (res.status !== 200) throw new Error(`Keycloak admin token: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  return {
    url,
    adminToken,
    async createRealm(realm) {
      const res = await fetch(`${url}/admin/realms`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify(realm),
      });
      if (res.status !== 201) throw new Error(`Keycloak realm: ${res.status} ${await res.text()}`);
    },
    output: () => output,
    close: stop,
  };
}
