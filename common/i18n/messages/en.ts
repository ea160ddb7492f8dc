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
} as const;

export type MessageKey = keyof typeof en;
/** Every other locale: the same keys, no more, no fewer (a missing key is a compile error). */
export type Catalogue = Record<MessageKey, string>;
