// The forms of a request's pages that write once under their key: a comment, a comment with a file, a file and
// a step with a comment. Fault tests send them as a browser does and count what Atlassian holds of them.
import {
  type Browser,
  csrfOf,
  type Harness,
  keyedFileForm,
  keyedFileName,
  signIn,
  useHarness,
  writeKeyOf,
} from './portal-harness.js';

/** "Add information": a step that keeps the request where it is, so it is offered again once taken. */
export const LOOP_STEP = {
  id: '901',
  name: 'Add information',
  from: ['Waiting for support'],
  to: 'Waiting for support',
};

/**
 * A suite's harness for these forms, given to `started` with Alice signed in: LOOP_STEP offered, and a post
 * of the same form waiting the write budget for the first, 300 ms, then answered 409.
 */
export function useWriteFormsHarness(started: (h: Harness, alice: Browser) => void): void {
  useHarness(
    async (h) => {
      h.emulator.state.workflow.push(LOOP_STEP);
      started(h, await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' }));
    },
    { writes: { budgetMs: 300 } },
  );
}

export interface RequestWriteForm {
  /** The page the form is on. */
  page(key: string): string;
  /** Where it posts. */
  action(key: string): string;
  /** Where its write goes at Atlassian (a path prefix, POST). */
  writes(key: string): string;
  /** Posts the form of `page` (its token, its key) with the text the forms were made with. */
  send(key: string, page: string): Promise<Response>;
  /** How many of its writes the request holds. */
  written(key: string, writeKey: string): number;
  /** The notice its request's page is reached with once written. */
  done: string;
}

/**
 * The four forms, as the browser of `at` sends them with `text` to the harness of `at` (read when a form is
 * sent: a suite's harness starts after its tests are declared); the step is `stepId`.
 */
export function requestWriteForms(
  at: () => { h: Pick<Harness, 'emulator'>; browser: Browser },
  text: string,
  stepId: string,
): Record<'comment' | 'commentWithFile' | 'file' | 'stepWithComment', RequestWriteForm> {
  const requestOf = (key: string) => [...at().h.emulator.state.requests.values()].find((r) => r.key === key)!;
  const commentAction = (key: string) => `/requests/${key}/comment`;
  const fileAction = (key: string) => `/requests/${key}/attachment`;
  const stepAction = (key: string) => `/requests/${key}/transition`;
  /** The page's form posting to `action`, as multipart, with a file and `fields`. */
  const multipart = (page: string, action: string, fields: Record<string, string>) =>
    at().browser.fetch(action, {
      method: 'POST',
      body: keyedFileForm(page, action, fields),
      headers: { origin: at().browser.base },
    });
  const comment: RequestWriteForm = {
    page: (key) => `/requests/${key}`,
    action: commentAction,
    writes: (key) => `/rest/servicedeskapi/request/${key}/comment`,
    send: (key, page) =>
      at().browser.post(commentAction(key), {
        _csrf: csrfOf(page),
        _write: writeKeyOf(page, commentAction(key))!,
        body: text,
      }),
    written: (key, writeKey) =>
      requestOf(key).comments.filter((c) => c.body.includes(`(portal reference ${writeKey})`)).length,
    done: 'commented',
  };
  return {
    comment,
    commentWithFile: {
      ...comment,
      writes: (key) => `/rest/servicedeskapi/request/${key}/attachment`,
      send: (key, page) => multipart(page, commentAction(key), { body: text }),
    },
    file: {
      page: comment.page,
      action: fileAction,
      writes: (key) => `/rest/servicedeskapi/request/${key}/attachment`,
      send: (key, page) => multipart(page, fileAction(key), {}),
      written: (key, writeKey) =>
        requestOf(key).attachments.filter((a) => a.filename === keyedFileName(writeKey)).length,
      done: 'uploaded',
    },
    stepWithComment: {
      page: (key) => `${stepAction(key)}/${stepId}`,
      action: stepAction,
      writes: (key) => `/rest/servicedeskapi/request/${key}/transition`,
      send: (key, page) =>
        at().browser.post(stepAction(key), {
          _csrf: csrfOf(page),
          _write: writeKeyOf(page, stepAction(key))!,
          transition: stepId,
          body: text,
        }),
      written: (key) => requestOf(key).statusHistory.length,
      done: 'moved',
    },
  };
}
