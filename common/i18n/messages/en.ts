/**
 * The English catalogue: the source every other locale translates. Keys are `area.thing` in
 * camelCase, grouped by the page or part that shows them (see /work/coord/I18N.md and
 * common/i18n/README.md). Values are ICU MessageFormat: `{name}` arguments, `{n, plural, ...}`,
 * and `<link>...</link>` tags that a page fills with its own markup. Reason codes are never
 * translated: they stay in logs and on pages as they are.
 */
export const en = {
  'locale.name': 'English',

  'layout.skipToContent': 'Skip to content',
  'layout.accountNav': 'Account',
  'layout.requests': 'Requests',
  'layout.activity': 'Activity',
  'layout.poweredBy': 'Powered by Jira Service Management',
  'layout.language': 'Language',
  'layout.pageTitle': '{page} - {site}',

  'error.localeUnknown.title': 'Language not available',
  'error.localeUnknown.message': 'This help center is not offered in that language.',

  'home.title': 'Help center',
  'home.welcome': 'Welcome to {site}',
  'home.searchLabel': 'Search the knowledge base',
  'home.searchPrompt': 'What can we help you with?',
  'home.search': 'Search',
  'home.kbResults': 'Knowledge base results',
  'home.kbNoResults': 'No articles match your search.',
  'home.desks': 'Service desks',
  'home.noDesks': 'No service desks are available to you.',
  'home.raiseRequest': 'Raise a request',

  'layout.breadcrumb': 'Breadcrumb',
  'article.stillNeedHelp': 'Still need help? <link>Raise a request with {desk}</link>.',

  'desk.findRequestType': 'Find a request type',
  'desk.otherGroup': 'Other',
  'desk.noMatches': 'No request types match.',
  'desk.groupsNav': 'Request type groups',
  'desk.requestTypes': 'Request types',
  'desk.matching': 'Request types matching “{search}”',

  'requests.title': 'Requests',
  'requests.filterLabel': 'Filter requests',
  'requests.status': 'Status',
  'requests.ownership': 'Requests',
  'requests.ownership.all': 'Any',
  'requests.ownership.mine': 'Created by me',
  'requests.ownership.shared': 'Shared with me',
  'requests.ownership.approvals': 'Approvals (I am an approver)',
  'requests.ownership.organizations': 'Shared with my organization',
  'requests.status.open': 'Open requests',
  'requests.status.closed': 'Closed requests',
  'requests.status.all': 'All requests',
  'requests.search': 'Search',
  'requests.filter': 'Filter',
  'requests.empty': 'No requests found.',
  'requests.column.reference': 'Reference',
  'requests.column.summary': 'Summary',
  'requests.column.status': 'Status',
  'requests.column.requester': 'Requester',
  'requests.column.created': 'Created',
  'requests.pages': 'Pages',
  'requests.nextPage': 'Next page',
  'requests.firstPage': 'First page',

  'transition.title': '{transition}: {key}',
  'transition.question': '{transition}?',
  'transition.explain':
    '<strong>{key}</strong> {summary} will be updated with “{transition}”. The help desk sees this change.',
  'transition.comment': 'Add a comment (optional)',
  'transition.keep': 'Keep the request as it is',
} as const;

export type MessageKey = keyof typeof en;
/** Every other locale: the same keys, no more, no fewer (a missing key is a compile error). */
export type Catalogue = Record<MessageKey, string>;
