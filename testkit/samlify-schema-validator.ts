// samlify's schema validator for the SAML peers the tests play (test/broker/upstream-saml.ts),
// without the listeners it would otherwise leak.
import { validate as validateWithXmllint } from '@authenio/samlify-node-xmllint';

/**
 * @authenio/samlify-node-xmllint runs libxml2 compiled by Emscripten, instantiated afresh on every
 * call, and each instance adds a process `uncaughtException` listener and a stdout `drain` listener
 * that are never removed (stdout written to a file is a SyncWriteStream, which never emits `drain`).
 * After ten validations Node warns `MaxListenersExceededWarning`. The instance runs to completion
 * inside the call, so whatever listeners the call added are its own: they are removed before the
 * answer is handed back.
 */
export const schemaValidator = {
  validate(xml: string): Promise<string> {
    const uncaught = new Set(process.listeners('uncaughtException'));
    const drain = new Set(process.stdout.listeners('drain'));
    const answer = validateWithXmllint(xml) as Promise<string>;
    for (const listener of process.listeners('uncaughtException'))
      if (!uncaught.has(listener)) process.removeListener('uncaughtException', listener);
    for (const listener of process.stdout.listeners('drain'))
      if (!drain.has(listener)) process.stdout.removeListener('drain', listener as () => void);
    return answer;
  },
};
