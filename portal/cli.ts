// `jsm-sso portal`: one tenant's customer portal as a process.
import { runPart } from '../common/runtime.js';
import { createPortalApp } from './app.js';

export async function run(argv: string[]): Promise<void> {
  await runPart('portal', "Serve one tenant's JSM customer portal behind SAML sign-in", argv, (context) =>
    createPortalApp(context),
  );
}
