import { html, SafeHtml } from '../../common/http/html.js';

/**
 * Tells the customer at selection which file the form would be refused for (ADR 0433), as the native
 * portal does: a file over the limit, or more files than the form takes. The file input says its
 * limits and the words for each (`fileInputLimits`, pages/uploads.ts, in her language and with
 * `{file}` for the file's name); the words go beside the input and into its validity, and a form
 * whose files are refused is not sent, so nothing of it reaches the server. Without script the
 * server refuses the same form whole (portal/http/multipart.ts), naming the file too.
 */
const SCRIPT = `(() => {
  const problemOf = (input) => {
    const { maxBytes, maxFiles, tooLarge, tooMany } = input.dataset;
    const files = [...input.files];
    if (files.length > Number(maxFiles)) return tooMany;
    const large = files.find((file) => file.size > Number(maxBytes));
    // A function, not a string: a name with "$&" in it is put in as it is.
    return large ? tooLarge.replace('{file}', () => large.name) : '';
  };
  const check = (input) => {
    const problem = problemOf(input);
    input.setCustomValidity(problem);
    const id = input.id + '-limit';
    let note = document.getElementById(id);
    const described = (input.getAttribute('aria-describedby') || '').split(' ').filter((d) => d && d !== id);
    if (!problem) {
      if (note) note.remove();
      input.removeAttribute('aria-invalid');
      if (described.length) input.setAttribute('aria-describedby', described.join(' '));
      else input.removeAttribute('aria-describedby');
      return true;
    }
    if (!note) {
      note = document.createElement('div');
      note.id = id;
      note.className = 'error';
      note.setAttribute('role', 'alert');
      input.before(note);
    }
    note.textContent = problem;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', [...described, id].join(' '));
    return false;
  };
  for (const input of document.querySelectorAll('input[type=file][data-max-bytes]')) {
    input.addEventListener('change', () => check(input));
    // The raise form is novalidate (its own checks speak): its validity alone would not hold it back.
    if (input.form)
      input.form.addEventListener('submit', (event) => {
        if (check(input)) return;
        event.preventDefault();
        input.focus();
      });
  }
})();`;

export function uploadLimitScript(nonce: string): SafeHtml {
  return html`<script nonce="${nonce}">${new SafeHtml(SCRIPT)}</script>`;
}
