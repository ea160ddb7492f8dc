import { expect } from 'chai';
import { type HtmlValue, html, htmlTemplate } from '../../common/http/html.js';

describe('portal HTML templates', () => {
  it('escapes every interpolated value by default', () => {
    const evil = '<script>alert(1)</script>" onmouseover="x';
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover&#61;&quot;x';
    expect(html`<p title="${evil}">${evil}</p>`.value).to.equal(`<p title="${escaped}">${escaped}</p>`);
  });
  it('nests templates without escaping them twice', () => {
    expect(html`<ul>${['a<', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.value).to.equal(
      '<ul><li>a&lt;</li><li>b</li></ul>',
    );
  });
});

describe('HTML templates drawn once and filled per response (htmlTemplate)', () => {
  const evil = '<script>alert(1)</script>" onmouseover="x';

  it('fills each hole exactly as html would render the value there, escaping it', () => {
    const page = (value: HtmlValue, extra: HtmlValue) =>
      html`<form action="${value}"><input value="${value}">${extra}</form>`;
    const template = htmlTemplate(['value', 'extra'], (hole) => page(hole.value, hole.extra));
    for (const [value, extra] of [
      [evil, html`<b>${evil}</b>`],
      ['plain', ''],
    ] as const)
      expect(template.fill({ value, extra })).to.equal(page(value, extra).value);
  });

  it('lets no text of the page pose as a hole: its marker is random', () => {
    // Text shaped like a hole (a tenant's title, say) stays text, and is escaped as any text is.
    const lookalike = `\u0000${'0'.repeat(24)}:0\u0000<`;
    const template = htmlTemplate(['v'], (hole) => html`<h1>${lookalike}</h1><p>${hole.v}</p>`);
    expect(template.fill({ v: evil })).to.equal(
      `<h1>\u0000${'0'.repeat(24)}:0\u0000&lt;</h1><p>&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover&#61;&quot;x</p>`,
    );
  });

  it('refuses a template that leaves out a value it names', () => {
    expect(() => htmlTemplate(['used', 'forgotten'], (hole) => html`<p>${hole.used}</p>`)).to.throw(
      /no place for forgotten/,
    );
  });
});
