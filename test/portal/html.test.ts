import { expect } from 'chai';
import { html } from '../../common/http/html.js';

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
