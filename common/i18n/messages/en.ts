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
  'home.searchLabel': 'Search the help center',
  'home.searchPrompt': 'How can we help?',
  'home.search': 'Search',
  'home.kbNoResults': 'No articles match your search.',
  'home.desks': 'Service desks',
  'home.noDesks': 'No service desks are available to you.',
  'home.raiseRequest': 'Raise a request',
  'home.signInPrompt': '<link>Sign in</link> to raise a request or follow your requests.',
  'home.kbHint': 'Search to find answers in the knowledge base of {desks}.',
  'home.kbNone': 'No knowledge base is available to you.',
  'home.knowledgeBase': 'Knowledge base',
  'home.requestTypesNoResults': 'No request types match your search.',
  'home.requestTypes': 'Request types',

  'layout.breadcrumb': 'Breadcrumb',
  'article.stillNeedHelp': 'Still need help? <link>Raise a request with {desk}</link>.',

  'desk.otherGroup': 'Other',
  'desk.searchKnowledgeBase': 'Search the knowledge base',
  'desk.searchAll': 'Search request types and articles',
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

  'request.raisedBy': 'raised by {name}',
  'request.details': 'Details',
  'request.noDetails': 'No details were given.',
  'request.activity': 'Activity',
  'request.noComments': 'No comments yet. Add one below; the help desk sees it.',
  'request.addComment': 'Add a comment',
  'request.comment': 'Comment',
  'request.attachments': 'Attachments',
  'request.noFiles': 'No files attached.',
  'request.attachFile': 'Attach a file (up to {size})',
  'request.upload': 'Upload',
  'request.statusAside': 'Request status',
  'request.status': 'Status',
  'request.serviceLevel': 'Service level',
  'request.sla.breached': '{name}: breached',
  'request.sla.remaining': '{name}: {remaining} left',
  'request.sla.due': '{name}: due {when}',
  'request.sla.met': '{name}: met',
  'request.notifications': 'Notifications',
  'request.notificationsExplain':
    'Atlassian e-mails you about this request. To stop them, use the unsubscribe link in those e-mails. There is no switch here because this help center works through a shared service account: a switch would change that account’s notifications, not yours.',
  'request.sharedWith': 'Shared with',
  'request.notShared': 'Not shared with anyone yet.',
  'request.removeParticipant': 'Remove {name}',
  'request.remove': 'Remove',
  'request.shareWithLabel': 'Share with someone from your organization',
  'request.share': 'Share',
  'request.timeline.raised': '<strong>{author}</strong> raised this request {when}',
  'request.timeline.files':
    '<strong>{author}</strong> attached {count, plural, one {a file} other {# files}} {when}',
  'request.timeline.status': 'Status changed to {status} {when}',
  'request.decision.approved': 'Approved',
  'request.decision.declined': 'Declined',
} as const;

export type MessageKey = keyof typeof en;
/** Every other locale: the same keys, no more, no fewer (a missing key is a compile error). */
export type Catalogue = Record<MessageKey, string>;
