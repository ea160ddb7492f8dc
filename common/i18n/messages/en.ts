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
  'home.announcement': 'Announcement',
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
  'requests.ownership.approvalsPending': 'Waiting for my approval',
  'requests.ownership.approvalsDone': 'Approvals no longer waiting for me',
  'requests.ownership.organizations': 'Shared with my organization',
  'requests.status.open': 'Open requests',
  'requests.status.closed': 'Closed requests',
  'requests.status.all': 'All requests',
  'requests.statusCategory.new': 'To do',
  'requests.statusCategory.indeterminate': 'In progress',
  'requests.statusCategory.done': 'Done',
  'requests.search': 'Search',
  'requests.filter': 'Filter',
  'requests.empty': 'No requests found.',
  'requests.noMore': 'No more requests.',
  'requests.notice.left': 'You are no longer a participant of that request.',
  'requests.column.reference': 'Reference',
  'requests.column.summary': 'Summary',
  'requests.column.status': 'Status',
  'requests.column.requester': 'Requester',
  'requests.column.created': 'Created',
  'requests.pages': 'Pages',
  'requests.nextPage': 'Next page',
  'requests.firstPage': 'First page',
  'requests.desk': 'Service desk',
  'requests.requestType': 'Request type',
  'requests.any': 'Any',
  'requests.sortBy': 'Sort by',
  'requests.sort.createdDesc': 'Newest first',
  'requests.sort.createdAsc': 'Oldest first',
  'requests.sort.updatedDesc': 'Recently updated',
  'requests.sort.updatedAsc': 'Least recently updated',
  'requests.column.desk': 'Service desk',
  'requests.column.requestType': 'Request type',
  'requests.range': 'Requests {first}–{last}',
  'requests.rangeOf': 'Requests {first}–{last} of {total}',
  'requests.rangeOfAbout': 'Requests {first}–{last} of about {total}',
  'requests.previous': 'Previous',

  'create.suggestedArticles': 'Articles that may help',
  'create.suggestedArticlesHelp': 'Each opens in a new tab; your form stays here.',
  'create.hint.text': 'One line, up to 255 characters.',
  'create.hint.paragraph': 'As much detail as you like; line breaks are kept.',
  'create.hint.chooseOne': 'Choose one.',
  'create.hint.chooseAll': 'Choose all that apply.',
  'create.hint.cascadingSelect': 'Choose one; pick the more precise choice when there is one.',
  'create.hint.date': 'A date, for example 2030-01-31.',
  'create.hint.dateTime': 'A date and time, in {zone}.',
  'create.hint.number': 'A number, for example 42 or 3.5.',
  'create.hint.url': 'A web address starting with https://.',
  'create.hint.labels': 'Words separated by spaces, for example travel vpn.',
  'create.hint.attachment': 'Up to {max} files. Accepted types: {types}.',
  'create.select': 'Select...',
  'create.labelsExample': 'label-one label-two',
  'create.filledByDesk': '{field}: this field is filled in by the help desk.',
  'create.audience': 'Who is this request for?',
  'create.onBehalf': 'Raise this on behalf of',
  'colleagues.notEveryoneListed':
    'Not everyone in your organizations is listed: one has more people than the help center reads.',
  'create.onBehalfHelp': 'Someone from your organizations. You follow the request too.',
  'create.myself': 'Myself',
  'create.shareWith': 'Share with',
  'create.shareHelp': 'They can see the request and follow its updates.',
  'create.everyoneIn': 'Everyone in {organization}',
  'create.myRequests': 'My requests',
  'create.send': 'Send',
  'create.cancel': 'Cancel',

  'error.deskNotFound': 'We could not find that service desk.',
  'error.articleNotFound': 'We could not find that article.',
  'error.requestTypeNotFound': 'We could not find that request type.',
  'error.noIcon': 'This request type has no icon.',
  'create.needsAttention': 'Some details need your attention.',
  'create.noAttachments': 'This request type does not take attachments.',
  'create.problem.required': '{field} is required.',
  'create.problem.tooLong': '{field} must be {max, number} characters or fewer.',
  'create.problem.choiceInvalid': 'Choose a valid value for {field}.',
  'create.problem.choicesInvalid': 'Choose valid values for {field}.',
  'create.problem.dateInvalid': '{field} must be a date, for example 2030-01-31.',
  'create.problem.dateTimeInvalid': '{field} must be a date and time.',
  'create.problem.numberInvalid': '{field} must be a number.',
  'create.problem.urlInvalid': '{field} must be a web address starting with https:// or http://.',
  'create.problem.labelTooLong': 'Each label in {field} must be {max, number} characters or fewer.',
  'create.problem.unsupported': '{field} cannot be filled in here; please contact the help desk.',
  'create.problem.refusedByDesk': 'The help desk did not accept this value: {detail}',
  'create.problem.requestRefusedByDesk': 'The help desk did not accept the request: {detail}',
  'create.problem.notAColleague':
    'You can raise a request only for someone from your organizations that this service desk has.',
  'create.problem.shareOutside':
    'You can share a request only with your organizations that this service desk has and the people in them.',
  'create.notCreated':
    'Your request was not created. Your details are kept below: send the form again when you are ready (it will not create a second request), or check My requests.',
  'create.outcomeUnknown':
    'We could not confirm whether your request was created. Please check My requests before sending it again.',
  'create.outcomeUnknownHeld':
    'We could not confirm whether your request was created. It may still be on its way: check My requests first (a request just raised may take a few minutes to show there). Your answers are kept below; you can send this form again in {seconds, plural, one {# second} other {# seconds}} (it raises the request only if the earlier one is not there by then; if that one still arrives later, you will have both).',
  'create.stillChecked':
    'We are still checking whether the request from your earlier click was created: it may still be on its way, so nothing was sent this time. Check My requests in a moment; your answers are kept below, and you can send this form again in {seconds, plural, one {# second} other {# seconds}} (it raises the request only if the earlier one is not there by then; if that one still arrives later, you will have both).',
  'create.inProgress':
    'Your request is still being sent from your earlier click; its outcome is known within {seconds, plural, one {# second} other {# seconds}} at the latest. Check My requests then; your answers are kept below, and sending this form again raises the request only if the earlier one is not there by then (if that one still arrives later, you will have both).',
  'create.outcomeUnknownNewForm':
    'We could not confirm whether your request was created. This form cannot tell: check My requests first (a request just raised may take a few minutes to show there): sending this form again raises a new request.',
  'create.writeKeyForeign':
    'This form was sent before, for a request you do not follow, so nothing was sent this time. Your answers are kept below on a new form: send it to raise a new request.',

  'request.notice.created': 'Your request was sent.',
  'request.notice.unshared':
    'Your request was sent, but it could not be shared with your organization. Ask the help desk to share it, or share it with people below.',
  'request.notice.commented': 'Your comment was added.',
  'request.notice.uploaded': 'Your file was attached.',
  'request.notice.shared': 'Sharing was updated.',
  'request.notice.moved': 'The request was updated.',
  'request.refused.notAvailable': 'Not available',
  'request.refused.approverOnly':
    'As an approver of this request you can read it and comment (your answer goes through Atlassian’s e-mail); changing it is up to the people it belongs to.',
  'request.refused.commentEmpty': 'Write a comment first.',
  'request.refused.commentNotAdded':
    'Your comment was not added. It is kept below: send it again when you are ready (it will not be added twice).',
  'request.leftUnconfirmed.title': 'Not confirmed',
  'request.leftUnconfirmed':
    'We could not confirm whether you were taken off that request. If you were, you may no longer see it: My requests lists every request you can see.',
  'request.unreadable.title': 'This request cannot be shown right now',
  'request.unreadable':
    'We could not read it from Atlassian just now. What you sent is kept below: once the request shows again, check it, then send this form if it is still needed (it is written only if the earlier one is not there by then; if that one still arrives later, both show).',
  'request.unreadable.share':
    'We could not read it from Atlassian just now. What you chose is kept below: once the request shows again, check it, then send it if it is still needed (it changes the request only once, however often it is sent).',
  'request.unreadable.send': 'Send again',
  'request.unreadable.open': 'Open the request',
  'request.refused.commentInProgress':
    'Your comment is still being sent from your earlier click; its outcome is known within {seconds, plural, one {# second} other {# seconds}} at the latest. Check the request’s comments again then; your comment is kept below, and sending it again adds it only if the earlier one is not there by then (if that one still arrives later, both show).',
  'request.refused.namedFileUndecided':
    'Nothing was sent: we cannot check the files of this request right now. Please send it again in a few minutes; your text is kept below.',
  'request.refused.commentUnconfirmed':
    'We could not confirm whether your comment was added. Check the request’s comments first; your comment is kept below, and sending it again adds it only if the earlier one is not there by then (if that one still arrives later, both show).',
  'request.refused.commentUnconfirmedHeld':
    'We could not confirm whether your comment was added. It may still be on its way: check the request’s comments first. Your comment is kept below; you can send it again in {seconds, plural, one {# second} other {# seconds}} (it is added only if the earlier one is not there by then; if that one still arrives later, both show).',
  'request.refused.commentStillChecked':
    'We are still checking whether the comment from your earlier click was added: it may still be on its way, so nothing was sent this time. Check the request’s comments in a moment; your comment is kept below, and you can send it again in {seconds, plural, one {# second} other {# seconds}} (it is added only if the earlier one is not there by then; if that one still arrives later, both show).',
  'request.refused.stepUnavailable': 'That step is not available.',
  'request.refused.stepInProgress':
    'That step is still being sent from your earlier click; its outcome is known within {seconds, plural, one {# second} other {# seconds}} at the latest. Check the request’s status again then, before taking the step again.',
  'request.refused.stepCommentInProgress':
    'That step is still being sent from your earlier click; its outcome is known within {seconds, plural, one {# second} other {# seconds}} at the latest. Check the request’s status again then; your comment is kept below, and sending this form again takes the step with its comment only if the earlier one is not there by then (if that one still arrives later, both show).',
  'request.refused.stepNotSent': 'The request was not updated. You can send that step again.',
  'request.refused.shareNotSent': 'Sharing was not changed. You can send it again.',
  'request.refused.shareUnconfirmed':
    'We could not confirm whether sharing was changed. Check whom the request is shared with first; sending it again changes it only once.',
  'request.refused.stepUnconfirmed':
    'We could not confirm whether the request was updated. Check its status below before sending that step again.',
  'request.refused.stepUnconfirmedHeld':
    'We could not confirm whether the request was updated. The step may still be on its way: check its status below before taking that step again. Your comment is kept below; you can send it again in {seconds, plural, one {# second} other {# seconds}} (it is added only if the earlier one is not there by then; if that one still arrives later, both show).',
  'request.refused.stepStillChecked':
    'We are still checking whether your earlier click updated the request: the step may still be on its way, so nothing was sent this time. Check its status below in a moment; your comment is kept below, and you can send it again in {seconds, plural, one {# second} other {# seconds}} (it is added only if the earlier one is not there by then; if that one still arrives later, both show).',
  'request.refused.stepUnavailableHere': 'That step is not available for this request.',
  'request.refused.commentTooLong': 'The comment is too long.',
  'request.refused.shareOrganizationsOnly':
    'You can share a request only with people from your organizations that its service desk has.',
  'request.refused.notParticipant': 'That person is not on this request.',
  'request.refused.shareOwnOrganizationsOnly':
    'You can share requests only with organizations you belong to.',
  'request.refused.shareDeskOrganizationsOnly':
    'You can share a request only with your organizations that its service desk has.',
  'request.refused.organizationSharingUnavailable':
    'This help center cannot share requests with organizations.',
  'request.refused.unshareReporterOnly':
    'Only the person who raised this request can stop sharing it with an organization.',
  'request.refused.notSharedWithOrganization': 'This request is not shared with that organization.',
  'request.refused.noFile': 'Choose a file to attach.',
  'error.uploadRefused.title': 'Upload refused',
  'request.refused.fileNotAttached': 'Your file was not attached; please choose it and upload it again.',
  'request.refused.fileInProgress':
    'Your file is still being sent from your earlier click; its outcome is known within {seconds, plural, one {# second} other {# seconds}} at the latest. Check the request’s files again then; to send it again, choose it below and upload it: it is attached only if the earlier one is not there by then (if that one still arrives later, both show).',
  'request.refused.fileUnconfirmed':
    'We could not confirm whether your file was attached. Check the request’s files first; to send it again, choose it below and upload it: it is attached only if the earlier one is not there by then (if that one still arrives later, both show).',
  'request.refused.fileUnconfirmedHeld':
    'We could not confirm whether your file was attached. It may still be on its way: check the request’s files first. You can send it again in {seconds, plural, one {# second} other {# seconds}}: choose it below and upload it (it is attached only if the earlier one is not there by then; if that one still arrives later, both show).',
  'request.refused.fileStillChecked':
    'We are still checking whether the file from your earlier click was attached: it may still be on its way, so nothing was sent this time. Check the request’s files in a moment; you can send it again in {seconds, plural, one {# second} other {# seconds}}: choose it below and upload it (it is attached only if the earlier one is not there by then; if that one still arrives later, both show).',
  'upload.acceptedTypes': 'Accepted types: {types}.',
  'upload.chooseAgain': 'Nothing was sent; please choose your files again.',
  'refusal.uploadContent':
    'This file is not what its name says ({filename}): its content is of another type.',
  'refusal.uploadEmpty': 'This file is empty ({filename}).',
  'refusal.uploadType': 'Files of this type cannot be attached ({filename}).',
  'refusal.uploadTooLarge': '{filename} is larger than {size}, the most a file can be.',
  'refusal.uploadTooMany': 'At most {max, plural, one {# file} other {# files}} can be attached at once.',
  'refusal.formUnreadable': 'The form could not be read.',
  'refusal.formTooLarge':
    'The form sent is too large. Nothing was sent. A text can have at most {max, number} characters and a file at most {size}. Go back to the form with your browser’s Back button (most browsers keep what you typed there), shorten the text or choose smaller files, then send it again.',
  'refusal.bodyTooLarge':
    'The form sent is too large. Nothing was sent. A text can have at most {max, number} characters. Go back to the form with your browser’s Back button (most browsers keep what you typed there), shorten the text, then send it again.',
  'refusal.formTooManyFields': 'The form sent has too many fields.',
  'refusal.formEncoding': 'The form’s encoding is not supported.',
  'refusal.pageLinkExpired': 'That page link is not valid any more. Start again from the first page.',
  'refusal.actionInvalid': 'That action is not possible on this request.',
  'refusal.accessDenied':
    'Your account is not in a group that may use this help center. Ask your administrator for access.',
  'refusal.accountService':
    'This is the help center’s own service account, which cannot sign in here. Please sign in with your own customer account.',
  'refusal.accountLicensed':
    'Agent and administrator accounts cannot sign in to this help center. Please sign in with your customer account.',
  'refusal.accountType':
    'App and system accounts cannot sign in to this help center. Please sign in with your customer account.',
  'refusal.accountInactive':
    'Your account no longer has access to this help center. If you think this is a mistake, contact the help desk.',
  'refusal.accountUnchecked': 'Your account could not be checked. Please try again later.',
  'refusal.customerNotSearchable.title': 'Almost ready',
  'refusal.customerNotSearchable':
    'Your account has been set up, but the help center cannot find it yet. Please sign in again in a moment.',
  'refusal.customerUnknown':
    'This help center does not know your account yet. Ask the help desk to add you as a customer.',
  'refusal.emailMissing':
    'Your organization’s sign-in did not give your e-mail address, so your account cannot be found. Please tell your administrator.',
  'refusal.idpUnknown':
    'The sign-in did not say which sign-in method was used. Please sign in again from the help center.',
  'refusal.atlassianNotFound': 'We could not find that.',
  'refusal.atlassianConflict': 'That already exists.',
  'refusal.atlassianForbidden': 'The help center does not allow this action.',
  'refusal.atlassianBusy': 'The help center is busy right now. Please try again in a minute.',
  'refusal.atlassianBusyShortly': 'The help center is busy right now. Please try again in a few seconds.',
  'refusal.atlassianUnavailable': 'The help center is temporarily unavailable. Please try again in a minute.',
  'refusal.atlassianTimeout': 'The help center took too long to answer. Please try again.',
  'refusal.atlassianUnreachable':
    'The help center cannot be reached right now. Please try again in a minute.',
  'refusal.atlassianMisconfigured':
    'The help center is not configured correctly. Please tell your administrator.',
  'refusal.atlassianListTooLong':
    'This request, or your account, has more participants, approvals, steps or organizations than the help center can check. Please ask the service desk team.',
  'refusal.atlassianError': 'Something went wrong while talking to the help center. Please try again.',

  'activity.accountNotFound': 'That account cannot be found.',
  'signIn.expired.title': 'Sign-in expired',
  'signIn.expired': 'Your sign-in took too long or was not started here. Please sign in again.',
  'signIn.endedAtIdp':
    'Your organization’s sign-in ended your session while you were signing in. Please sign in again.',
  'signIn.failed.title': 'Sign-in failed',
  'signIn.failed': 'The sign-in could not be verified. Please try again.',
  'signIn.refused.title': 'Access refused',
  'signOut.done': 'You have signed out.',
  'signOut.partial':
    'You have signed out of the help center, but your organization’s sign-in may still be open. Close the browser to end it.',
  'signOut.failed.title': 'Sign-out failed',
  'signOut.failed': 'The sign-out message could not be verified.',
  'error.atlassianBusy.title': 'The help center is busy',
  'error.atlassianBusy':
    'The help center is busy right now. Please try again in {seconds, plural, one {# second} other {# seconds}}.',
  'error.uploadsBusy.title': 'Please try again',
  'error.uploadsBusy':
    'Many files are being uploaded right now. Please try again in {seconds, plural, one {# second} other {# seconds}}.',

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
  'request.attachToComment':
    'Attach files (optional, up to {max, plural, one {# file} other {# files}} of {size} each)',
  'request.attachments': 'Attachments',
  'request.noFiles': 'No files attached.',
  'request.filesUnlisted':
    'Some files of this request cannot be listed right now. Please try again in a few minutes.',
  'refusal.fileVisibilityUnknown':
    'We cannot tell right now whether you may open this file. Please try again in a few minutes.',
  'request.attachFile': 'Attach a file (up to {size})',
  'request.upload': 'Upload',
  'request.statusAside': 'Request status',
  'request.status': 'Status',
  'request.notifications': 'Notifications',
  'request.notificationsExplain':
    'Atlassian e-mails you about this request. To stop them, use the unsubscribe link in those e-mails. There is no switch here because this help center works through a shared service account: a switch would change that account’s notifications, not yours.',
  'request.sharedWith': 'Shared with',
  'request.notShared': 'Not shared with anyone yet.',
  'request.removeParticipant': 'Remove {name}',
  'request.remove': 'Remove',
  'request.shareWithLabel': 'Share with someone from your organization',
  'request.nobodyToShareWith': 'Nobody else from your organizations can be added.',
  'request.share': 'Share',
  'request.shareWithOrganizationLabel': 'Share with an organization of yours',
  'request.stopSharing': 'Stop sharing',
  'request.stopSharingWith': 'Stop sharing with {organization}',
  'request.otherOrganizations':
    'Also shared with {count, plural, one {# other organization} other {# other organizations}}.',
  'request.timeline.raised': '<strong>{author}</strong> raised this request {when}',
  'request.timeline.files':
    '<strong>{author}</strong> attached {count, plural, one {a file} other {# files}} {when}',
  'request.timeline.earlierCommentsUnread':
    'Earlier comments are not shown: this request has more than the help center reads.',
  'request.timeline.olderStatusesUnread':
    'Older status changes are not shown: this request has more than the help center reads.',
  'request.timeline.status': 'Status changed to {status} {when}',
  'request.decision.approved': 'Approved',
  'request.decision.declined': 'Declined',
  'activity.title': 'Activity',
  'activity.heading': 'Customer activity',
  'activity.intro':
    'The most recent sign-ins (up to 500, kept 30 days). The portal keeps only Atlassian account IDs, client IPs and sign-in times; names are asked of Atlassian each time this page is shown and are not kept.',
  'activity.revoked': 'Every portal session of {name} has ended. They must sign in again.',
  'activity.namesUnavailable':
    'Names cannot be fetched from Atlassian right now; people are shown by account ID.',
  'activity.filter': 'Filter activity',
  'activity.query': 'Name, e-mail, account ID or IP',
  'activity.period': 'Signed in',
  'activity.period.all': 'Last 30 days',
  'activity.period.day': 'Last 24 hours',
  'activity.period.week': 'Last 7 days',
  'activity.filterButton': 'Filter',
  'activity.count': '{count, plural, one {# person} other {# people}}',
  'activity.empty': 'No sign-ins match.',
  'activity.caption': 'Sign-ins, newest first',
  'activity.name': 'Name',
  'activity.accountId': 'Account ID',
  'activity.lastSignIn': 'Last sign-in',
  'activity.clientIp': 'Client IP',
  'activity.sessions': 'Sessions',
  'activity.unknownName': 'Unknown',
  'activity.endSessions': 'End sessions',
  'activity.endSessionsOf': 'End sessions of {name}',
  'activity.previousPage': 'Previous page',
  'activity.pageOf': 'Page {page} of {count}',

  'error.requestRefused.title': 'Request refused',
  'error.formExpired': 'This form has expired. Go back, reload the page and try again.',
  'error.signedOut.title': 'Signed out',
  'error.sessionEnded':
    'Your session ended before your form was sent, so nothing was saved. Sign in again: you will come back to the form with what you wrote.',
  'error.notFound.title': 'Not found',
  'error.notFound.page': 'We could not find that page.',
  'error.slowDown.title': 'Please slow down',
  'error.slowDown':
    'You have done this too often. Please wait {seconds, plural, one {# second} other {# seconds}} and try again.',
  'error.writeUncertain':
    'Nothing was sent: the help center restarted part of its storage and cannot yet be sure this form is not being sent from an earlier click. Please check My requests, then send it again in {seconds, plural, one {# second} other {# seconds}} (it is sent only if the earlier one is not there by then; if that one still arrives later, both show).',
  'error.writeInProgress':
    'This form is still being sent from your earlier click. Look for it in My requests in a moment before sending it again.',
  'error.failed.title': 'Something went wrong',
  'error.tryLater': 'Please try again later.',
  'error.storeFull':
    'The help center has no room for this right now. Room comes back as earlier visits end: please try again in a minute.',
  'error.storeRefused':
    'The help center is unavailable because of a problem on the service’s side that its operators have to fix. Trying again will not help until they have. If it lasts, mention the reference below when you report it.',
  'error.requestMoved': 'This request was moved and has a new number: open it from My requests.',
  'error.requestNotFound': 'We could not find that request.',

  'approvals.title': 'Approvals',
  'approvals.requested':
    '<strong>Your approval is requested.</strong> Atlassian has sent you an e-mail about this request: answer with the <em>Approve</em> or <em>Decline</em> button in that e-mail.',
  'approvals.whyNotHere':
    'This help center cannot record your answer: Jira Service Management accepts an approval only from the approver’s own Atlassian account, and the help center works through a shared service account. If you cannot find the e-mail, say so in a comment below and the help desk will follow up.',
  'approvals.approval': 'Approval',
  'approvals.outcome.pending': 'Waiting for approval',
  'approvals.answer.pending': 'Not answered yet',
  'approvals.approver': '{name}{you, select, yes { (you)} other {}}: {answer}',

  'profile.title': 'Profile',
  'profile.name': 'Name',
  'profile.organizations': 'Organizations',
  'profile.none': 'None',
  'profile.managed': 'Your name and e-mail address are managed by your organization’s sign-in.',
  'profile.signOut': 'Sign out',

  'message.signIn': 'Sign in',
  'message.backHome': 'Back to the help center',
  // Before a refusal's reason code and reference, untranslated: the portal's and the broker's pages (ADR 0316).
  'message.reference': 'Reference:',
  'signingOut.title': 'Signing out',
  'signingOut.message':
    'You are signed out of the help center. <link>Continue</link> to sign out of your organization’s sign-in too.',

  // The broker's pages (IdP chooser, auto-post form, sign-out, refusals): broker/pages.ts. A refusal
  // shows the message of its reason's kind (broker/refusal-text.ts), never the error's own text.
  'broker.backTo': 'Back to {site}',
  'broker.continue': 'Continue',
  'broker.choose.title': 'Sign in',
  'broker.choose.heading': 'Sign in to {site}',
  'broker.choose.email': 'Work e-mail',
  'broker.choose.or': 'or choose where you sign in:',
  'broker.choose.noMethodForDomain': 'No sign-in method is set up for that e-mail domain. Choose one below.',
  'broker.choose.methodNotOffered':
    'The sign-in method of that e-mail domain cannot be used for this sign-in. Choose one below.',
  'broker.post.title': 'Signing you in',
  'broker.post.noScript': 'Your browser does not run scripts; press Continue.',
  'broker.signedOut.title': 'Signed out',
  'broker.signedOut.message':
    'Your organization’s sign-in has ended. You may still be signed in to the help center: sign out there too.',
  'broker.refused.title': 'Sign-in refused',
  'broker.refused.signOutTitle': 'Sign-out not completed',
  'broker.refused.expired':
    'This sign-in has expired or was already completed. Start again from the help center.',
  'broker.refused.otherBrowser':
    'This sign-in was started in another browser. Start again from the help center in this one.',
  'broker.refused.form': 'This form was not sent from the sign-in page. Start again from the help center.',
  'broker.refused.unknownMethod': 'There is no such sign-in method.',
  'broker.refused.notAccepted':
    'Your organization’s sign-in did not confirm an e-mail address that this help center accepts from it.',
  'broker.refused.identity':
    'Your organization’s sign-in sent an identity this help center cannot use. Contact your administrator.',
  'broker.refused.idpAnswer':
    'The answer from your organization’s sign-in could not be verified. Start again from the help center.',
  'broker.refused.message':
    'A sign-in message did not pass the security checks. Start again from the help center.',
  'broker.refused.signOutExpired': 'This sign-out has expired or was already completed.',
  'broker.refused.notFound': 'There is nothing here.',
  'broker.refused.idpSessionEnded':
    'Your organization’s sign-in ended your session while you were signing in. Start again from the help center.',
  'broker.refused.other': 'This sign-in could not be completed. Start again from the help center.',
  'broker.unavailable.title': 'Sign-in is temporarily unavailable',
  'broker.unavailable.message': 'Please try again in a few moments.',
  'broker.storeFull.title': 'Sign-in is busy',
  'broker.storeFull.message':
    'There is no room for new sign-ins right now. Room comes back as earlier sign-ins end: please try again in a minute.',
  'broker.storeRefused.title': 'Sign-in is unavailable',
  'broker.storeRefused.message':
    'Sign-in is unavailable because of a problem on the service’s side that its operators have to fix. Trying again will not help until they have. If it lasts, mention the reference below when you report it.',
} as const;

export type MessageKey = keyof typeof en;
/** Every other locale: the same keys, no more, no fewer (a missing key is a compile error). */
export type Catalogue = Record<MessageKey, string>;
