// A multipart form whose body the test ends: the portal holds the tenant's upload slot while it reads
// it, so a test can act while a form is on its way (a second upload refused as busy, a customer taken
// off the request or signed out meanwhile).
import type { Browser } from './portal-harness.js';

export interface HeldUpload {
  /** The portal's answer, once the body has been ended. */
  answer: Promise<Response>;
  /** Sends the file's last bytes and the form's end. */
  finish(): void;
}

/**
 * Posts `fields` and a small text file named `fileName` to `path` as `sender`, from the portal's own
 * origin `origin`, all but the file's last bytes sent at once.
 */
export function postHeldUpload(
  sender: Browser,
  path: string,
  options: { origin: string; fields: Record<string, string>; fileName: string },
): HeldUpload {
  const boundary = 'held-upload';
  const bytes = (text: string) => new TextEncoder().encode(text);
  let finish = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const fields = Object.entries(options.fields)
        .map(
          ([name, value]) =>
            `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
        )
        .join('');
      controller.enqueue(
        bytes(
          `${fields}--${boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="${options.fileName}"\r\n` +
            'Content-Type: text/plain\r\n\r\nthe first bytes',
        ),
      );
      finish = () => {
        controller.enqueue(bytes(` and the last\r\n--${boundary}--\r\n`));
        controller.close();
      };
    },
  });
  const answer = sender.fetch(path, {
    method: 'POST',
    body,
    duplex: 'half',
    headers: { origin: options.origin, 'content-type': `multipart/form-data; boundary=${boundary}` },
  } as RequestInit & { headers: Record<string, string> });
  return { answer, finish: () => finish() };
}
