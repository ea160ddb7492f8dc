// `jsm-sso dev idp`: the development OpenID Connect provider as a process.
import { optionalPort, parseCommand } from '../../common/args.js';
import { startDevIdp } from './provider.js';
import { DEV_REALMS, type DevRealm } from './users.js';

export async function run(argv: string[]): Promise<void> {
  const values = parseCommand(
    {
      name: 'dev idp',
      summary: 'A development OpenID Connect provider with seeded users (password "demo")',
      options: {
        port: { type: 'string', value: 'N', description: 'Port (default 8082; 0 picks a free one).' },
        host: {
          type: 'string',
          value: 'ADDR',
          description: 'Address (default 127.0.0.1; loopback only unless the next flag).',
        },
        'i-know-this-is-not-production': { type: 'boolean', description: 'Allow a non-loopback address.' },
        'client-id': {
          type: 'string',
          value: 'ID',
          description: 'Register a confidential client (default jsm-sso).',
        },
        'client-secret': { type: 'string', value: 'SECRET', description: 'Its secret (default dev-secret).' },
        realm: {
          type: 'string',
          value: 'NAME',
          description: 'Whose people it knows: acme, partner, or all (default all).',
        },
        'redirect-uri': {
          type: 'string',
          value: 'URL',
          multiple: true,
          description:
            'Its redirect URI (default http://127.0.0.1:8081/oidc/callback); repeat it for several brokers (a local pool).',
        },
        'backchannel-logout-uri': {
          type: 'string',
          value: 'URL',
          description:
            "Its backchannel_logout_uri, sid required (the broker's /oidc/backchannel-logout/<idp>): signing out here ends the help-center session.",
        },
        'frontchannel-logout-uri': {
          type: 'string',
          value: 'URL',
          description:
            "Its frontchannel_logout_uri, iss and sid required (the broker's /oidc/frontchannel-logout/<idp>): the sign-out page here frames it.",
        },
      },
    },
    argv,
  );
  if (!values) return;
  const given = (values['redirect-uri'] ?? []) as string[];
  const redirectUris = given.length > 0 ? given : ['http://127.0.0.1:8081/oidc/callback'];
  const realm = typeof values['realm'] === 'string' ? values['realm'] : 'all';
  if (!Object.hasOwn(DEV_REALMS, realm))
    throw new Error(`unknown realm ${realm}; known: ${Object.keys(DEV_REALMS).join(', ')}`);
  const users = DEV_REALMS[realm as DevRealm];
  const backchannel = values['backchannel-logout-uri'];
  const frontchannel = values['frontchannel-logout-uri'];
  const idp = await startDevIdp({
    users,
    port: optionalPort(values, 'port', 8082),
    host: typeof values['host'] === 'string' ? values['host'] : '127.0.0.1',
    allowNonLoopback: values['i-know-this-is-not-production'] === true,
    clients: [
      {
        client_id: typeof values['client-id'] === 'string' ? values['client-id'] : 'jsm-sso',
        client_secret: typeof values['client-secret'] === 'string' ? values['client-secret'] : 'dev-secret',
        redirect_uris: redirectUris,
        post_logout_redirect_uris: redirectUris.map((uri) => new URL('/oidc/logout-callback', uri).href),
        token_endpoint_auth_method: 'client_secret_basic',
        ...(typeof backchannel === 'string'
          ? { backchannel_logout_uri: backchannel, backchannel_logout_session_required: true }
          : {}),
        ...(typeof frontchannel === 'string'
          ? { frontchannel_logout_uri: frontchannel, frontchannel_logout_session_required: true }
          : {}),
      },
    ],
  });
  console.log(
    `DEVELOPMENT IdP at ${idp.issuer} (${realm}; users: ${users.map((u) => u.email).join(', ')}; password demo)`,
  );
  // oidc-provider warns about its in-memory adapter on start; for this IdP that is the design.
  console.log('(its "in-memory adapter" warning is expected: the dev IdP keeps its sessions in memory)');
  const stop = () => void idp.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
