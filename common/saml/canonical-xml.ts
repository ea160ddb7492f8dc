/**
 * Escaping that yields text already in Exclusive XML Canonicalization form (exc-c14n, W3C
 * "Canonical XML 1.0" section 2.3 rules), so a document built from these pieces is its own
 * canonical form and can be digested without parsing it again.
 */

/** Characters XML 1.0 cannot carry at all (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/F). */
const NOT_XML_CHAR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are exactly what must go.
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Element content: `&`, `<`, `>` and CR as character references, as c14n writes them. */
export function canonicalText(value: string): string {
  return value
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#xD;');
}

/** Attribute values (always in double quotes): `&`, `<`, `"`, TAB, LF, CR, as c14n writes them. */
export function canonicalAttribute(value: string): string {
  return value
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');
}

/** A SAML ID: an NCName (starts with a letter or underscore), 160 random bits. */
export function newSamlId(random: (size: number) => Buffer): string {
  return `_${random(20).toString('hex')}`;
}

/** xs:dateTime in UTC with millisecond precision, the form SAML processors expect. */
export function samlInstant(date: Date): string {
  return date.toISOString();
}
