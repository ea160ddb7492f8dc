import type { RequestTypeDTO, RequestTypeFieldDTO } from '../atlassian/types.js';
import type { Desk } from '../catalogue.js';
import { fieldKind, inputName, type Submitted } from '../form.js';
import { html, type SafeHtml, seg } from '../html.js';
import { csrfField, layout, type PageContext, writeKeyField } from './layout.js';
import { ACCEPTED_UPLOADS } from './uploads.js';

function control(field: RequestTypeFieldDTO, submitted: Submitted, error: string | undefined): SafeHtml {
  const name = inputName(field);
  const id = `fld-${field.fieldId}`;
  const describedBy = [field.description ? `${id}-help` : '', error ? `${id}-err` : '']
    .filter(Boolean)
    .join(' ');
  const aria = html`${describedBy ? html` aria-describedby="${describedBy}"` : ''}${error ? html` aria-invalid="true"` : ''}${field.required ? html` required aria-required="true"` : ''}`;
  const raw = submitted[name];
  const values =
    raw === undefined ? (field.defaultValues ?? []).map((v) => v.value) : Array.isArray(raw) ? raw : [raw];
  const value = values[0] ?? '';
  const label = html`<label for="${id}">${field.name}${field.required ? html` <span aria-hidden="true">*</span>` : ''}</label>`;
  const help = field.description
    ? html`<div id="${id}-help" class="field-help">${field.description}</div>`
    : '';
  const err = error ? html`<div id="${id}-err" class="error" role="alert">${error}</div>` : '';
  const options = field.validValues ?? [];
  let input: SafeHtml;
  switch (fieldKind(field)) {
    case 'paragraph':
      input = html`<textarea id="${id}" name="${name}"${aria}>${value}</textarea>`;
      break;
    case 'select':
      input = html`<select id="${id}" name="${name}"${aria}><option value="">Select...</option>${options.map(
        (o) =>
          html`<option value="${o.value}"${values.includes(o.value) ? ' selected' : ''}>${o.label}</option>`,
      )}</select>`;
      break;
    case 'multiSelect':
      input = html`<select id="${id}" name="${name}" multiple${aria}>${options.map(
        (o) =>
          html`<option value="${o.value}"${values.includes(o.value) ? ' selected' : ''}>${o.label}</option>`,
      )}</select>`;
      break;
    case 'cascadingSelect':
      // Without scripts: one list of "Parent" and "Parent › Child" choices.
      input = html`<select id="${id}" name="${name}"${aria}><option value="">Select...</option>${options.map(
        (o) =>
          html`<optgroup label="${o.label}"><option value="${o.value}"${values.includes(o.value) ? ' selected' : ''}>${o.label}</option>${(
            o.children ?? []
          ).map(
            (c) =>
              html`<option value="${o.value}:${c.value}"${values.includes(`${o.value}:${c.value}`) ? ' selected' : ''}>${o.label} › ${c.label}</option>`,
          )}</optgroup>`,
      )}</select>`;
      break;
    case 'checkboxes':
    case 'radio': {
      const type = fieldKind(field) === 'radio' ? 'radio' : 'checkbox';
      return html`<fieldset id="${id}"${describedBy ? html` aria-describedby="${describedBy}"` : ''}><legend>${field.name}${field.required ? ' *' : ''}</legend>${help}${options.map(
        (o, i) =>
          html`<div><input type="${type}" id="${id}-${i}" name="${name}" value="${o.value}"${values.includes(o.value) ? ' checked' : ''}> <label class="inline" for="${id}-${i}">${o.label}</label></div>`,
      )}${err}</fieldset>`;
    }
    case 'date':
      input = html`<input type="date" id="${id}" name="${name}" value="${value}"${aria}>`;
      break;
    case 'dateTime':
      input = html`<input type="datetime-local" id="${id}" name="${name}" value="${value}"${aria}>`;
      break;
    case 'number':
      input = html`<input type="number" step="any" id="${id}" name="${name}" value="${value}"${aria}>`;
      break;
    case 'url':
      input = html`<input type="url" id="${id}" name="${name}" value="${value}"${aria}>`;
      break;
    case 'labels':
      input = html`<input type="text" id="${id}" name="${name}" value="${value}" placeholder="label-one label-two"${aria}>`;
      break;
    case 'attachment':
      input = html`<input type="file" id="${id}" name="attachment" multiple accept="${ACCEPTED_UPLOADS}"${aria}>`;
      break;
    case 'unsupported':
      return html`<p class="muted">${field.name}: this field is filled in by the help desk.</p>`;
    default:
      input = html`<input type="text" id="${id}" name="${name}" value="${value}" maxlength="255"${aria}>`;
  }
  return html`<div class="form-field">${label}${help}${input}${err}</div>`;
}

export function createPage(
  ctx: PageContext,
  desk: Desk,
  type: RequestTypeDTO,
  fields: RequestTypeFieldDTO[],
  state: {
    submitted: Submitted;
    errors: Record<string, string>;
    message?: string;
    csrf: string;
    writeKey: string;
    /** After a failed write: point to My requests, where a request that exists would be. */
    linkMyRequests?: boolean;
  },
): SafeHtml {
  const visible = fields.filter((f) => f.visible !== false);
  const general = Object.entries(state.errors).filter(([k]) => !visible.some((f) => f.fieldId === k));
  return layout(
    ctx,
    type.name,
    html`<nav aria-label="Breadcrumb"><a href="/">Help center</a> / <a href="/desk/${seg(desk.id)}">${desk.name}</a></nav>
    <h1>${type.name}</h1>
    ${type.helpText ? html`<p>${type.helpText}</p>` : ''}
    ${state.message || general.length > 0 ? html`<div class="alert" role="alert">${state.message ?? ''} ${general.map(([, m]) => html`<div>${m}</div>`)}${state.linkMyRequests ? html` <a href="/requests">My requests</a>` : ''}</div>` : ''}
    <form class="card" method="post" action="/desk/${seg(desk.id)}/create/${seg(type.id)}" enctype="multipart/form-data" novalidate data-draft>
      ${csrfField(state.csrf)}${writeKeyField(state.writeKey)}
      ${visible.map((f) => control(f, state.submitted, state.errors[f.fieldId]))}
      <p><button type="submit">Send</button> <a href="/desk/${seg(desk.id)}">Cancel</a></p>
    </form>`,
  );
}
