/** C0 control characters and DEL: never valid in a path, a file name or a header value. */
const isControl = (code: number) => code <= 0x1f || code === 0x7f;

export function replaceControlCharacters(text: string, replacement: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += isControl(text.charCodeAt(i)) ? replacement : text[i];
  return out;
}
