import { html, type SafeHtml, seg } from '../../common/http/html.js';
import type { MessageKey } from '../../common/i18n/index.js';
import type { OrganizationDTO, RequestTypeDTO, RequestTypeFieldDTO, UserDTO } from '../atlassian/types.js';
import { ON_BEHALF_FIELD, SHARE_ORGANIZATIONS_FIELD, SHARE_PEOPLE_FIELD } from '../audience.js';
import type { Desk } from '../catalogue.js';
import { type FieldKind, type FieldProblems, fieldKind, inputName, type Submitted } from '../form.js';
import type { PageReference } from '../reference.js';
import { MAX_TYPED_TEXT } from '../typed-text.js';
import { csrfField, layout, type PageContext, writeKeyField } from './layout.js';
import { referenceLine } from './reference.js';
import { type Problem, problemText } from './refusals.js';
import { fieldDescription, typeDescription, typeHelpText } from './request-type-text.js';
import { suggestionsPanel } from './suggestions.js';
import { ACCEPTED_LIST, fileInputLimits, MAX_CREATE_FILES, uploadRefusalText } from './uploads.js';

/** Field kinds the browser's own input of that type checks and helps with (a date picker, a number pad). */
const NATIVE_INPUT_TYPES = {
  date: 'date',
  dateTime: 'datetime-local',
  number: 'number',
  url: 'url',
} as const satisfies Partial<Record<FieldKind, string>>;

/** What each kind of field takes, said under every field (after its description, rendered: ADR 0384). */
const KIND_HINTS: Record<FieldKind, MessageKey | undefined> = {
  text: 'create.hint.text',
  paragraph: 'create.hint.paragraph',
  select: 'create.hint.chooseOne',
  multiSelect: 'create.hint.chooseAll',
  cascadingSelect: 'create.hint.cascadingSelect',
  checkboxes: 'create.hint.chooseAll',
  radio: 'create.hint.chooseOne',
  date: 'create.hint.date',
  dateTime: 'create.hint.dateTime',
  number: 'create.hint.number',
  url: 'create.hint.url',
  labels: 'create.hint.labels',
  attachment: 'create.hint.attachment',
  unsupported: undefined,
};

function control(
  ctx: PageContext,
  field: RequestTypeFieldDTO,
  submitted: Submitted,
  error: string | undefined,
  maxUploadBytes: number,
): SafeHtml {
  const { t } = ctx.i18n;
  const name = inputName(field);
  const id = `fld-${field.fieldId}`;
  const kind = fieldKind(field);
  const kindHint = KIND_HINTS[kind];
  const description = fieldDescription(ctx, field);
  const takes = kindHint
    ? t(kindHint, { max: MAX_CREATE_FILES, types: ACCEPTED_LIST, zone: ctx.i18n.timeZone })
    : '';
  const hint = description.value || takes ? html`${description}${takes}` : '';
  const describedBy = [hint ? `${id}-help` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ');
  const aria = html`${describedBy ? html` aria-describedby="${describedBy}"` : ''}${error ? html` aria-invalid="true"` : ''}${field.required ? html` required="" aria-required="true"` : ''}`;
  const raw = submitted[name];
  const values =
    raw === undefined ? (field.defaultValues ?? []).map((v) => v.value) : Array.isArray(raw) ? raw : [raw];
  const value = values[0] ?? '';
  const label = html`<label for="${id}">${field.name}${field.required ? html` <span aria-hidden="true">*</span>` : ''}</label>`;
  const help = hint ? html`<div id="${id}-help" class="field-help">${hint}</div>` : '';
  const err = error ? html`<div id="${id}-err" class="error" role="alert">${error}</div>` : '';
  const options = field.validValues ?? [];
  let input: SafeHtml;
  switch (kind) {
    case 'paragraph':
      input = html`<textarea id="${id}" name="${name}" maxlength="${MAX_TYPED_TEXT}"${aria}>${value}</textarea>`;
      break;
    case 'select':
      input = html`<select id="${id}" name="${name}"${aria}><option value="">${t('create.select')}</option>${options.map(
        (o) =>
          html`<option value="${o.value}"${values.includes(o.value) ? ' selected' : ''}>${o.label}</option>`,
      )}</select>`;
      break;
    case 'cascadingSelect':
      // Without scripts: one list of "Parent" and "Parent › Child" choices.
      input = html`<select id="${id}" name="${name}"${aria}><option value="">${t('create.select')}</option>${options.map(
        (o) =>
          html`<optgroup label="${o.label}"><option value="${o.value}"${values.includes(o.value) ? ' selected' : ''}>${o.label}</option>${(
            o.children ?? []
          ).map(
            (c) =>
              html`<option value="${o.value}:${c.value}"${values.includes(`${o.value}:${c.value}`) ? ' selected' : ''}>${o.label} › ${c.label}</option>`,
          )}</optgroup>`,
      )}</select>`;
      break;
    // A multi-select is a group of checkboxes, as for checkboxes: usable with the keyboard and
    // without a script, each choice with its own label (a bare <select multiple> is neither).
    case 'multiSelect':
    case 'checkboxes':
    case 'radio': {
      const type = kind === 'radio' ? 'radio' : 'checkbox';
      return html`<fieldset id="${id}"${describedBy ? html` aria-describedby="${describedBy}"` : ''}><legend>${field.name}${field.required ? ' *' : ''}</legend>${help}${options.map(
        (o, i) =>
          html`<div><input type="${type}" id="${id}-${i}" name="${name}" value="${o.value}"${values.includes(o.value) ? ' checked' : ''}> <label class="inline" for="${id}-${i}">${o.label}</label></div>`,
      )}${err}</fieldset>`;
    }
    case 'date':
    case 'dateTime':
    case 'number':
    case 'url':
      input = html`<input type="${NATIVE_INPUT_TYPES[kind]}"${kind === 'number' ? html` step="any"` : ''} id="${id}" name="${name}" value="${value}"${aria}>`;
      break;
    case 'labels':
      // Each label is checked on its own (255); the field as a whole is held to a text's longest.
      input = html`<input type="text" id="${id}" name="${name}" value="${value}" placeholder="${t('create.labelsExample')}" maxlength="${MAX_TYPED_TEXT}"${aria}>`;
      break;
    case 'attachment':
      input = html`<input type="file" id="${id}" name="attachment" multiple${fileInputLimits(ctx.i18n, maxUploadBytes, MAX_CREATE_FILES)}${aria}>`;
      break;
    case 'unsupported':
      return html`<p class="muted">${t('create.filledByDesk', { field: field.name })}</p>`;
    default:
      input = html`<input type="text" id="${id}" name="${name}" value="${value}" maxlength="255"${aria}>`;
  }
  return html`<div class="form-field">${label}${help}${input}${err}</div>`;
}

/** Whom the customer may raise the request for and share it with: their organizations' people. */
export interface AudienceChoices {
  people: readonly UserDTO[];
  /** False when an organization of the customer has more people than `people` holds (ADR 0257). */
  everyoneListed: boolean;
  /** Empty when the site cannot share with organizations (no Organizations field). */
  organizations: readonly OrganizationDTO[];
}

function audienceSection(
  ctx: PageContext,
  choices: AudienceChoices,
  submitted: Submitted,
  errors: Record<string, string>,
): SafeHtml | '' {
  if (choices.people.length === 0 && choices.organizations.length === 0) return '';
  const { t } = ctx.i18n;
  const chosen = (name: string) => {
    const v = submitted[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  const onBehalf = chosen(ON_BEHALF_FIELD)[0] ?? '';
  const shared = [...chosen(SHARE_PEOPLE_FIELD), ...chosen(SHARE_ORGANIZATIONS_FIELD)];
  const behalfError = errors[ON_BEHALF_FIELD];
  const shareError = errors[SHARE_PEOPLE_FIELD];
  const box = (name: string, value: string, label: string, i: number) =>
    html`<div><input type="checkbox" id="share-${name}-${i}" name="${name}" value="${value}"${shared.includes(value) ? ' checked' : ''}> <label class="inline" for="share-${name}-${i}">${label}</label></div>`;
  return html`<fieldset class="audience"><legend>${t('create.audience')}</legend>
    ${
      choices.people.length > 0
        ? html`<div class="form-field"><label for="on-behalf">${t('create.onBehalf')}</label>
      <div id="on-behalf-help" class="field-help">${t('create.onBehalfHelp')}${choices.everyoneListed ? '' : html` ${t('colleagues.notEveryoneListed')}`}</div>
      <select id="on-behalf" name="${ON_BEHALF_FIELD}" aria-describedby="on-behalf-help${behalfError ? ' on-behalf-err' : ''}"${behalfError ? html` aria-invalid="true"` : ''}><option value="">${t('create.myself')}</option>${choices.people.map(
        (p) =>
          html`<option value="${p.accountId}"${p.accountId === onBehalf ? ' selected' : ''}>${p.displayName ?? p.accountId}</option>`,
      )}</select>${behalfError ? html`<div id="on-behalf-err" class="error" role="alert">${behalfError}</div>` : ''}</div>`
        : ''
    }
    <fieldset id="share" aria-describedby="share-help${shareError ? ' share-err' : ''}"><legend>${t('create.shareWith')}</legend>
      <div id="share-help" class="field-help">${t('create.shareHelp')}</div>
      ${choices.organizations.map((o, i) => box(SHARE_ORGANIZATIONS_FIELD, o.id, t('create.everyoneIn', { organization: o.name }), i))}
      ${choices.people.map((p, i) => box(SHARE_PEOPLE_FIELD, p.accountId, p.displayName ?? p.accountId, i))}
      ${shareError ? html`<div id="share-err" class="error" role="alert">${shareError}</div>` : ''}
    </fieldset></fieldset>`;
}

export function createPage(
  ctx: PageContext,
  desk: Desk,
  type: RequestTypeDTO,
  fields: RequestTypeFieldDTO[],
  state: {
    submitted: Submitted;
    /** What the checks refused, by field id (`_form`: the form as a whole). */
    errors: FieldProblems;
    /** A refused file: said beside the file input, or above the form when there is none. */
    uploadRefusal?: Problem;
    message?: string;
    /** The failure's reference, under `message` (ADR 0316). */
    reference?: PageReference;
    csrf: string;
    writeKey: string;
    /**
     * `writeKey` is a new one, given in place of the key sent (ADR 0299): the tab's draft, which
     * holds the key sent, must not put it back.
     */
    newWriteKey?: boolean;
    /** After a failed write: point to My requests, where a request that exists would be. */
    linkMyRequests?: boolean;
    audience: AudienceChoices;
    /** The largest file the portal takes (spec.portal.limits.maxUploadBytes), checked at selection. */
    maxUploadBytes: number;
  },
): SafeHtml {
  const visible = fields.filter((f) => f.visible !== false);
  const errors: Record<string, string> = Object.fromEntries(
    Object.entries(state.errors).map(([id, problem]) => [id, problemText(ctx.i18n, problem)]),
  );
  if (state.uploadRefusal) {
    const fileInput = visible.find((f) => fieldKind(f) === 'attachment');
    errors[fileInput?.fieldId ?? 'attachment'] = uploadRefusalText(ctx.i18n, state.uploadRefusal);
  }
  const general = Object.entries(errors).filter(
    ([k]) => !visible.some((f) => f.fieldId === k) && k !== ON_BEHALF_FIELD && k !== SHARE_PEOPLE_FIELD,
  );
  const { t } = ctx.i18n;
  return layout(
    ctx,
    type.name,
    html`<nav aria-label="${t('layout.breadcrumb')}"><a href="/">${t('home.title')}</a> / <a href="/desk/${seg(desk.id)}">${desk.name}</a></nav>
    <h1 class="type-title"><img src="/desk/${seg(desk.id)}/icon/${seg(type.id)}" alt="" width="32" height="32"> ${type.name}</h1>
    ${typeDescription(ctx, type)}
    ${typeHelpText(ctx, type)}
    ${state.message || general.length > 0 ? html`<div class="alert" role="alert">${state.message ?? ''} ${general.map(([, m]) => html`<div>${m}</div>`)}${state.linkMyRequests ? html` <a href="/requests">${t('create.myRequests')}</a>` : ''}${state.reference ? html`<br>${referenceLine(ctx, state.reference)}` : ''}</div>` : ''}
    <form class="card" method="post" action="/desk/${seg(desk.id)}/create/${seg(type.id)}" enctype="multipart/form-data" novalidate data-draft${state.newWriteKey ? ' data-draft-new-key' : ''}>
      ${csrfField(state.csrf)}${writeKeyField(state.writeKey)}
      ${visible.map(
        (f) =>
          html`${control(ctx, f, state.submitted, errors[f.fieldId], state.maxUploadBytes)}${
            f.fieldId === 'summary' && fieldKind(f) === 'text'
              ? suggestionsPanel(ctx, desk.id, `fld-${f.fieldId}`)
              : ''
          }`,
      )}
      ${audienceSection(ctx, state.audience, state.submitted, errors)}
      <p><button type="submit">${t('create.send')}</button> <a href="/desk/${seg(desk.id)}">${t('create.cancel')}</a></p>
    </form>`,
  );
}
