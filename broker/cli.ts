// `jsm-sso broker`: one tenant's broker as a process.
import { runPart } from '../common/runtime.js';
import { createBrokerApp } from './app.js';

export async function run(argv: string[]): Promise<void> {
  await runPart('broker', "Run one tenant's SAML/OIDC broker", argv, (context) => createBrokerApp(context));
}
