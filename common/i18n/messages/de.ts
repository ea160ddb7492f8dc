import type { Catalogue } from './en.js';

export const de: Catalogue = {
  'locale.name': 'Deutsch',

  'layout.skipToContent': 'Zum Inhalt springen',
  'layout.accountNav': 'Konto',
  'layout.requests': 'Anfragen',
  'layout.activity': 'Aktivität',
  'layout.poweredBy': 'Bereitgestellt von Jira Service Management',
  'layout.language': 'Sprache',
  'layout.pageTitle': '{page} - {site}',

  'error.localeUnknown.title': 'Sprache nicht verfügbar',
  'error.localeUnknown.message': 'Dieses Hilfecenter ist in dieser Sprache nicht verfügbar.',

  'home.title': 'Hilfecenter',
  'home.welcome': 'Willkommen bei {site}',
  'home.announcement': 'Ankündigung',
  'home.searchLabel': 'Hilfecenter durchsuchen',
  'home.searchPrompt': 'Wie können wir helfen?',
  'home.search': 'Suchen',
  'home.kbNoResults': 'Keine Artikel passen zu Ihrer Suche.',
  'home.desks': 'Service-Desks',
  'home.noDesks': 'Für Sie sind keine Service-Desks verfügbar.',
  'home.raiseRequest': 'Anfrage stellen',
  'home.signInPrompt':
    '<link>Melden Sie sich an</link>, um eine Anfrage zu stellen oder Ihre Anfragen zu verfolgen.',
  'home.kbHint': 'Suchen Sie oben, um Antworten in der Wissensdatenbank von {desks} zu finden.',
  'home.kbNone': 'Für Sie ist keine Wissensdatenbank verfügbar.',
  'home.knowledgeBase': 'Wissensdatenbank',
  'home.requestTypesNoResults': 'Keine Anfragetypen passen zu Ihrer Suche.',
  'home.requestTypes': 'Anfragetypen',

  'layout.breadcrumb': 'Brotkrümelnavigation',
  'article.stillNeedHelp': 'Brauchen Sie weitere Hilfe? <link>Stellen Sie eine Anfrage bei {desk}</link>.',

  'desk.otherGroup': 'Sonstige',
  'desk.searchKnowledgeBase': 'Wissensdatenbank durchsuchen',
  'desk.searchAll': 'Anfragetypen und Artikel durchsuchen',
  'desk.noMatches': 'Keine Anfragetypen gefunden.',
  'desk.groupsNav': 'Gruppen von Anfragetypen',
  'desk.requestTypes': 'Anfragetypen',
  'desk.matching': 'Anfragetypen zu „{search}“',

  'requests.title': 'Anfragen',
  'requests.filterLabel': 'Anfragen filtern',
  'requests.status': 'Status',
  'requests.ownership': 'Anfragen',
  'requests.ownership.all': 'Alle',
  'requests.ownership.mine': 'Von mir erstellt',
  'requests.ownership.shared': 'Mit mir geteilt',
  'requests.ownership.approvals': 'Genehmigungen (ich genehmige)',
  'requests.ownership.approvalsPending': 'Wartet auf meine Genehmigung',
  'requests.ownership.approvalsDone': 'Genehmigungen, die nicht mehr auf mich warten',
  'requests.ownership.organizations': 'Mit meiner Organisation geteilt',
  'requests.status.open': 'Offene Anfragen',
  'requests.status.closed': 'Geschlossene Anfragen',
  'requests.status.all': 'Alle Anfragen',
  'requests.statusCategory.new': 'Offen',
  'requests.statusCategory.indeterminate': 'In Bearbeitung',
  'requests.statusCategory.done': 'Erledigt',
  'requests.search': 'Suche',
  'requests.filter': 'Filtern',
  'requests.empty': 'Keine Anfragen gefunden.',
  'requests.noMore': 'Keine weiteren Anfragen.',
  'requests.notice.left': 'Sie sind nicht mehr an dieser Anfrage beteiligt.',
  'requests.column.reference': 'Referenz',
  'requests.column.summary': 'Zusammenfassung',
  'requests.column.status': 'Status',
  'requests.column.requester': 'Antragsteller',
  'requests.column.created': 'Erstellt',
  'requests.pages': 'Seiten',
  'requests.nextPage': 'Nächste Seite',
  'requests.firstPage': 'Erste Seite',
  'requests.desk': 'Service-Desk',
  'requests.requestType': 'Anfragetyp',
  'requests.any': 'Alle',
  'requests.sortBy': 'Sortieren nach',
  'requests.sort.createdDesc': 'Neueste zuerst',
  'requests.sort.createdAsc': 'Älteste zuerst',
  'requests.sort.updatedDesc': 'Zuletzt aktualisiert',
  'requests.sort.updatedAsc': 'Am längsten nicht aktualisiert',
  'requests.column.desk': 'Service-Desk',
  'requests.column.requestType': 'Anfragetyp',
  'requests.range': 'Anfragen {first}–{last}',
  'requests.rangeOf': 'Anfragen {first}–{last} von {total}',
  'requests.rangeOfAbout': 'Anfragen {first}–{last} von etwa {total}',
  'requests.previous': 'Zurück',

  'create.suggestedArticles': 'Artikel, die helfen könnten',
  'create.suggestedArticlesHelp': 'Jeder öffnet sich in einem neuen Tab; Ihr Formular bleibt hier.',
  'create.hint.text': 'Eine Zeile, bis zu 255 Zeichen.',
  'create.hint.paragraph': 'So ausführlich, wie Sie möchten; Zeilenumbrüche bleiben erhalten.',
  'create.hint.chooseOne': 'Wählen Sie eine Option.',
  'create.hint.chooseAll': 'Wählen Sie alle zutreffenden Optionen.',
  'create.hint.cascadingSelect':
    'Wählen Sie eine Option; nehmen Sie die genauere Auswahl, wenn es eine gibt.',
  'create.hint.date': 'Ein Datum, zum Beispiel 2030-01-31.',
  'create.hint.dateTime': 'Datum und Uhrzeit (Zeitzone {zone}).',
  'create.hint.number': 'Eine Zahl, zum Beispiel 42 oder 3.5.',
  'create.hint.url': 'Eine Webadresse, die mit https:// beginnt.',
  'create.hint.labels': 'Durch Leerzeichen getrennte Wörter, zum Beispiel reise vpn.',
  'create.hint.attachment': 'Bis zu {max} Dateien. Erlaubte Typen: {types}.',
  'create.select': 'Auswählen...',
  'create.labelsExample': 'stichwort-eins stichwort-zwei',
  'create.filledByDesk': '{field}: Dieses Feld füllt der Helpdesk aus.',
  'create.audience': 'Für wen ist diese Anfrage?',
  'create.onBehalf': 'Im Namen von',
  'colleagues.notEveryoneListed':
    'Nicht alle Personen Ihrer Organisationen sind aufgeführt: Eine hat mehr Personen, als das Hilfecenter liest.',
  'create.onBehalfHelp': 'Eine Person aus Ihren Organisationen. Sie verfolgen die Anfrage ebenfalls.',
  'create.myself': 'Mich selbst',
  'create.shareWith': 'Teilen mit',
  'create.shareHelp': 'Sie sehen die Anfrage und können ihre Aktualisierungen verfolgen.',
  'create.everyoneIn': 'Alle in {organization}',
  'create.myRequests': 'Meine Anfragen',
  'create.send': 'Senden',
  'create.cancel': 'Abbrechen',

  'error.deskNotFound': 'Dieser Service-Desk wurde nicht gefunden.',
  'error.articleNotFound': 'Dieser Artikel wurde nicht gefunden.',
  'error.requestTypeNotFound': 'Dieser Anfragetyp wurde nicht gefunden.',
  'error.noIcon': 'Dieser Anfragetyp hat kein Symbol.',
  'create.needsAttention': 'Einige Angaben müssen Sie noch prüfen.',
  'create.noAttachments': 'Dieser Anfragetyp nimmt keine Anhänge an.',
  'create.problem.required': '{field} ist ein Pflichtfeld.',
  'create.problem.tooLong': '{field} darf höchstens {max, number} Zeichen lang sein.',
  'create.problem.choiceInvalid': 'Wählen Sie einen gültigen Wert für {field}.',
  'create.problem.choicesInvalid': 'Wählen Sie gültige Werte für {field}.',
  'create.problem.dateInvalid': '{field} muss ein Datum sein, zum Beispiel 2030-01-31.',
  'create.problem.dateTimeInvalid': '{field} muss ein Datum mit Uhrzeit sein.',
  'create.problem.numberInvalid': '{field} muss eine Zahl sein.',
  'create.problem.urlInvalid': '{field} muss eine Webadresse sein, die mit https:// oder http:// beginnt.',
  'create.problem.labelTooLong': 'Jedes Stichwort in {field} darf höchstens {max, number} Zeichen lang sein.',
  'create.problem.unsupported':
    '{field} kann hier nicht ausgefüllt werden; bitte wenden Sie sich an den Helpdesk.',
  'create.problem.refusedByDesk': 'Der Helpdesk hat diesen Wert nicht angenommen: {detail}',
  'create.problem.requestRefusedByDesk': 'Der Helpdesk hat die Anfrage nicht angenommen: {detail}',
  'create.problem.notAColleague':
    'Sie können Anfragen nur im Namen von Personen aus Ihren Organisationen stellen, die dieser Service-Desk hat.',
  'create.problem.shareOutside':
    'Sie können eine Anfrage nur mit Ihren Organisationen, die dieser Service-Desk hat, und deren Mitgliedern teilen.',
  'create.notCreated':
    'Ihre Anfrage wurde nicht erstellt. Ihre Angaben sind unten erhalten: Senden Sie das Formular erneut, wenn Sie bereit sind (es entsteht keine zweite Anfrage), oder sehen Sie unter „Meine Anfragen“ nach.',
  'create.outcomeUnknown':
    'Wir konnten nicht bestätigen, ob Ihre Anfrage erstellt wurde. Bitte sehen Sie unter „Meine Anfragen“ nach, bevor Sie sie erneut senden.',
  'create.outcomeUnknownHeld':
    'Wir konnten nicht bestätigen, ob Ihre Anfrage erstellt wurde. Sie ist möglicherweise noch unterwegs: Sehen Sie zuerst unter „Meine Anfragen“ nach (eine gerade erstellte Anfrage kann dort einige Minuten später erscheinen). Ihre Angaben sind unten erhalten; Sie können dieses Formular in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut senden (die Anfrage wird nur erstellt, wenn die vorherige bis dahin nicht da ist; trifft diese noch später ein, haben Sie beide).',
  'create.stillChecked':
    'Wir prüfen noch, ob die mit Ihrem vorherigen Klick gesendete Anfrage erstellt wurde: Sie ist möglicherweise noch unterwegs, daher wurde diesmal nichts gesendet. Sehen Sie gleich unter „Meine Anfragen“ nach; Ihre Angaben sind unten erhalten, und Sie können dieses Formular in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut senden (die Anfrage wird nur erstellt, wenn die vorherige bis dahin nicht da ist; trifft diese noch später ein, haben Sie beide).',
  'create.inProgress':
    'Ihre Anfrage wird von Ihrem vorherigen Klick noch gesendet; spätestens in {seconds, plural, one {# Sekunde} other {# Sekunden}} steht ihr Ergebnis fest. Sehen Sie dann unter „Meine Anfragen“ nach; Ihre Angaben sind unten erhalten, und wenn Sie dieses Formular erneut senden, wird die Anfrage nur erstellt, wenn die vorherige bis dahin nicht da ist (trifft diese noch später ein, haben Sie beide).',
  'create.outcomeUnknownNewForm':
    'Wir konnten nicht bestätigen, ob Ihre Anfrage erstellt wurde. Dieses Formular kann es nicht feststellen: Sehen Sie zuerst unter „Meine Anfragen“ nach (eine gerade erstellte Anfrage kann dort einige Minuten später erscheinen): Wenn Sie dieses Formular erneut senden, wird eine neue Anfrage erstellt.',
  'create.writeKeyForeign':
    'Dieses Formular wurde bereits für eine Anfrage gesendet, der Sie nicht folgen; dieses Mal wurde daher nichts gesendet. Ihre Antworten stehen unten in einem neuen Formular: Senden Sie es, um eine neue Anfrage zu erstellen.',

  'request.notice.created': 'Ihre Anfrage wurde gesendet.',
  'request.notice.unshared':
    'Ihre Anfrage wurde gesendet, konnte aber nicht mit Ihrer Organisation geteilt werden. Bitten Sie den Helpdesk, sie zu teilen, oder teilen Sie sie unten mit einzelnen Personen.',
  'request.notice.commented': 'Ihr Kommentar wurde hinzugefügt.',
  'request.notice.uploaded': 'Ihre Datei wurde angehängt.',
  'request.notice.shared': 'Die Freigabe wurde aktualisiert.',
  'request.notice.moved': 'Die Anfrage wurde aktualisiert.',
  'request.refused.notAvailable': 'Nicht verfügbar',
  'request.refused.approverOnly':
    'Als genehmigende Person dieser Anfrage können Sie sie lesen und kommentieren (Ihre Antwort läuft über die E-Mail von Atlassian); Änderungen sind Sache der Personen, denen sie gehört.',
  'request.refused.commentEmpty': 'Schreiben Sie zuerst einen Kommentar.',
  'request.refused.commentNotAdded':
    'Ihr Kommentar wurde nicht hinzugefügt. Er ist unten erhalten: Senden Sie ihn erneut, wenn Sie bereit sind (er wird nicht doppelt hinzugefügt).',
  'request.leftUnconfirmed.title': 'Nicht bestätigt',
  'request.leftUnconfirmed':
    'Wir konnten nicht bestätigen, ob Sie von dieser Anfrage entfernt wurden. Falls ja, sehen Sie sie möglicherweise nicht mehr: Unter Meine Anfragen finden Sie alle Anfragen, die Sie sehen können.',
  'request.unreadable.title': 'Diese Anfrage kann gerade nicht angezeigt werden',
  'request.unreadable':
    'Wir konnten sie gerade nicht erneut von Atlassian abrufen. Was Sie gesendet haben, steht unten: Sobald die Anfrage wieder angezeigt wird, prüfen Sie sie und senden Sie dieses Formular, falls es noch nötig ist (es wird nur gespeichert, wenn das vorherige bis dahin nicht da ist; trifft dieses noch später ein, erscheinen beide).',
  'request.unreadable.share':
    'Wir konnten sie gerade nicht erneut von Atlassian abrufen. Ihre Auswahl steht unten: Sobald die Anfrage wieder angezeigt wird, prüfen Sie sie und senden Sie sie, falls es noch nötig ist (sie ändert die Anfrage nur einmal, wie oft sie auch gesendet wird).',
  'request.unreadable.send': 'Erneut senden',
  'request.unreadable.open': 'Anfrage öffnen',
  'request.refused.commentInProgress':
    'Ihr Kommentar wird von Ihrem vorherigen Klick noch gesendet; spätestens in {seconds, plural, one {# Sekunde} other {# Sekunden}} steht sein Ergebnis fest. Prüfen Sie dann die Kommentare der Anfrage noch einmal; Ihr Kommentar ist unten erhalten, und erneut gesendet wird er nur hinzugefügt, wenn der vorherige bis dahin nicht da ist (trifft dieser noch später ein, erscheinen beide).',
  'request.refused.namedFileUndecided':
    'Nichts wurde gesendet: Wir können die Dateien dieser Anfrage gerade nicht prüfen. Bitte senden Sie es in einigen Minuten erneut; Ihr Text ist unten erhalten.',
  'request.refused.commentUnconfirmed':
    'Wir konnten nicht bestätigen, ob Ihr Kommentar hinzugefügt wurde. Prüfen Sie zuerst die Kommentare der Anfrage; Ihr Kommentar ist unten erhalten, und erneut gesendet wird er nur hinzugefügt, wenn der vorherige bis dahin nicht da ist (trifft dieser noch später ein, erscheinen beide).',
  'request.refused.commentUnconfirmedHeld':
    'Wir konnten nicht bestätigen, ob Ihr Kommentar hinzugefügt wurde. Er ist möglicherweise noch unterwegs: Prüfen Sie zuerst die Kommentare der Anfrage. Ihr Kommentar ist unten erhalten; Sie können ihn in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut senden (er wird nur hinzugefügt, wenn der vorherige bis dahin nicht da ist; trifft dieser noch später ein, erscheinen beide).',
  'request.refused.commentStillChecked':
    'Wir prüfen noch, ob der mit Ihrem vorherigen Klick gesendete Kommentar hinzugefügt wurde: Er ist möglicherweise noch unterwegs, daher wurde diesmal nichts gesendet. Prüfen Sie die Kommentare der Anfrage gleich noch einmal; Ihr Kommentar ist unten erhalten, und Sie können ihn in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut senden (er wird nur hinzugefügt, wenn der vorherige bis dahin nicht da ist; trifft dieser noch später ein, erscheinen beide).',
  'request.refused.stepUnavailable': 'Dieser Schritt ist nicht verfügbar.',
  'request.refused.stepInProgress':
    'Dieser Schritt wird von Ihrem vorherigen Klick noch gesendet; spätestens in {seconds, plural, one {# Sekunde} other {# Sekunden}} steht sein Ergebnis fest. Prüfen Sie dann den Status der Anfrage, bevor Sie den Schritt erneut ausführen.',
  'request.refused.stepCommentInProgress':
    'Dieser Schritt wird von Ihrem vorherigen Klick noch gesendet; spätestens in {seconds, plural, one {# Sekunde} other {# Sekunden}} steht sein Ergebnis fest. Prüfen Sie dann den Status der Anfrage noch einmal; Ihr Kommentar ist unten erhalten, und wenn Sie dieses Formular erneut senden, werden Schritt und Kommentar nur ausgeführt, wenn der vorherige bis dahin nicht da ist (trifft dieser noch später ein, erscheinen beide).',
  'request.refused.stepNotSent':
    'Die Anfrage wurde nicht aktualisiert. Sie können diesen Schritt erneut senden.',
  'request.refused.shareNotSent': 'Die Freigabe wurde nicht geändert. Sie können sie erneut senden.',
  'request.refused.shareUnconfirmed':
    'Wir konnten nicht bestätigen, ob die Freigabe geändert wurde. Prüfen Sie zuerst, mit wem die Anfrage geteilt ist; wenn Sie sie erneut senden, wird sie nur einmal geändert.',
  'request.refused.stepUnconfirmed':
    'Wir konnten nicht bestätigen, ob die Anfrage aktualisiert wurde. Prüfen Sie unten ihren Status, bevor Sie diesen Schritt erneut senden.',
  'request.refused.stepUnconfirmedHeld':
    'Wir konnten nicht bestätigen, ob die Anfrage aktualisiert wurde. Der Schritt ist möglicherweise noch unterwegs: Prüfen Sie unten ihren Status, bevor Sie diesen Schritt erneut ausführen. Ihr Kommentar ist unten erhalten; Sie können ihn in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut senden (er wird nur hinzugefügt, wenn der vorherige bis dahin nicht da ist; trifft dieser noch später ein, erscheinen beide).',
  'request.refused.stepStillChecked':
    'Wir prüfen noch, ob Ihr vorheriger Klick die Anfrage aktualisiert hat: Der Schritt ist möglicherweise noch unterwegs, daher wurde diesmal nichts gesendet. Prüfen Sie unten gleich noch einmal ihren Status; Ihr Kommentar ist unten erhalten, und Sie können ihn in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut senden (er wird nur hinzugefügt, wenn der vorherige bis dahin nicht da ist; trifft dieser noch später ein, erscheinen beide).',
  'request.refused.stepUnavailableHere': 'Dieser Schritt ist für diese Anfrage nicht verfügbar.',
  'request.refused.commentTooLong': 'Der Kommentar ist zu lang.',
  'request.refused.shareOrganizationsOnly':
    'Sie können eine Anfrage nur mit Personen aus Ihren Organisationen teilen, die ihr Service-Desk hat.',
  'request.refused.notParticipant': 'Diese Person ist nicht an dieser Anfrage beteiligt.',
  'request.refused.shareOwnOrganizationsOnly':
    'Sie können Anfragen nur mit Organisationen teilen, denen Sie angehören.',
  'request.refused.shareDeskOrganizationsOnly':
    'Sie können eine Anfrage nur mit Ihren Organisationen teilen, die ihr Service-Desk hat.',
  'request.refused.organizationSharingUnavailable':
    'Dieses Hilfecenter kann Anfragen nicht mit Organisationen teilen.',
  'request.refused.unshareReporterOnly':
    'Nur die Person, die diese Anfrage gestellt hat, kann das Teilen mit einer Organisation beenden.',
  'request.refused.notSharedWithOrganization': 'Diese Anfrage ist nicht mit dieser Organisation geteilt.',
  'request.refused.noFile': 'Wählen Sie eine Datei zum Anhängen.',
  'error.uploadRefused.title': 'Hochladen abgelehnt',
  'request.refused.fileNotAttached':
    'Ihre Datei wurde nicht angehängt; bitte wählen Sie sie aus und laden Sie sie erneut hoch.',
  'request.refused.fileInProgress':
    'Ihre Datei wird von Ihrem vorherigen Klick noch gesendet; spätestens in {seconds, plural, one {# Sekunde} other {# Sekunden}} steht ihr Ergebnis fest. Prüfen Sie dann die Dateien der Anfrage noch einmal; um sie erneut zu senden, wählen Sie sie unten aus und laden Sie sie hoch: Sie wird nur angehängt, wenn die vorherige bis dahin nicht da ist (trifft diese noch später ein, erscheinen beide).',
  'request.refused.fileUnconfirmed':
    'Wir konnten nicht bestätigen, ob Ihre Datei angehängt wurde. Prüfen Sie zuerst die Dateien der Anfrage; um sie erneut zu senden, wählen Sie sie unten aus und laden Sie sie hoch: Sie wird nur angehängt, wenn die vorherige bis dahin nicht da ist (trifft diese noch später ein, erscheinen beide).',
  'request.refused.fileUnconfirmedHeld':
    'Wir konnten nicht bestätigen, ob Ihre Datei angehängt wurde. Sie ist möglicherweise noch unterwegs: Prüfen Sie zuerst die Dateien der Anfrage. Sie können sie in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut senden: Wählen Sie sie unten aus und laden Sie sie hoch (sie wird nur angehängt, wenn die vorherige bis dahin nicht da ist; trifft diese noch später ein, erscheinen beide).',
  'request.refused.fileStillChecked':
    'Wir prüfen noch, ob die mit Ihrem vorherigen Klick gesendete Datei angehängt wurde: Sie ist möglicherweise noch unterwegs, daher wurde diesmal nichts gesendet. Prüfen Sie die Dateien der Anfrage gleich noch einmal; Sie können sie in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut senden: Wählen Sie sie unten aus und laden Sie sie hoch (sie wird nur angehängt, wenn die vorherige bis dahin nicht da ist; trifft diese noch später ein, erscheinen beide).',
  'upload.acceptedTypes': 'Erlaubte Typen: {types}.',
  'upload.chooseAgain': 'Es wurde nichts gesendet; bitte wählen Sie Ihre Dateien erneut aus.',
  'refusal.uploadContent':
    'Diese Datei ist nicht, was ihr Name sagt ({filename}): Der Inhalt ist von einem anderen Typ.',
  'refusal.uploadEmpty': 'Diese Datei ist leer ({filename}).',
  'refusal.uploadType': 'Dateien dieses Typs können nicht angehängt werden ({filename}).',
  'refusal.uploadTooLarge': '{filename} ist größer als {size}; Dateien dürfen höchstens {size} groß sein.',
  'refusal.uploadTooMany':
    'Es können höchstens {max, plural, one {# Datei} other {# Dateien}} auf einmal angehängt werden.',
  'refusal.formUnreadable': 'Das Formular konnte nicht gelesen werden.',
  'refusal.formTooLarge':
    'Das gesendete Formular ist zu groß. Es wurde nichts gesendet. Ein Text darf höchstens {max, number} Zeichen lang sein, eine Datei höchstens {size} groß. Kehren Sie mit der Zurück-Schaltfläche Ihres Browsers zum Formular zurück (die meisten Browser behalten dort, was Sie eingegeben haben), kürzen Sie den Text oder wählen Sie kleinere Dateien und senden Sie es erneut.',
  'refusal.bodyTooLarge':
    'Das gesendete Formular ist zu groß. Es wurde nichts gesendet. Ein Text darf höchstens {max, number} Zeichen lang sein. Kehren Sie mit der Zurück-Schaltfläche Ihres Browsers zum Formular zurück (die meisten Browser behalten dort, was Sie eingegeben haben), kürzen Sie den Text und senden Sie es erneut.',
  'refusal.formTooManyFields': 'Das gesendete Formular hat zu viele Felder.',
  'refusal.formEncoding': 'Die Codierung des Formulars wird nicht unterstützt.',
  'refusal.pageLinkExpired':
    'Dieser Seitenlink ist nicht mehr gültig. Beginnen Sie wieder auf der ersten Seite.',
  'refusal.actionInvalid': 'Diese Aktion ist für diese Anfrage nicht möglich.',
  'refusal.accessDenied':
    'Ihr Konto gehört keiner Gruppe an, die dieses Hilfecenter nutzen darf. Bitten Sie Ihren Administrator um Zugriff.',
  'refusal.accountService':
    'Dies ist das Dienstkonto des Hilfecenters selbst; es kann sich hier nicht anmelden. Bitte melden Sie sich mit Ihrem eigenen Kundenkonto an.',
  'refusal.accountLicensed':
    'Mit Agenten- und Administratorkonten können Sie sich bei diesem Hilfecenter nicht anmelden. Bitte melden Sie sich mit Ihrem Kundenkonto an.',
  'refusal.accountType':
    'Mit App- und Systemkonten können Sie sich bei diesem Hilfecenter nicht anmelden. Bitte melden Sie sich mit Ihrem Kundenkonto an.',
  'refusal.accountInactive':
    'Ihr Konto hat keinen Zugang mehr zu diesem Hilfecenter. Wenn Sie das für einen Fehler halten, wenden Sie sich an den Helpdesk.',
  'refusal.accountUnchecked':
    'Ihr Konto konnte nicht überprüft werden. Bitte versuchen Sie es später noch einmal.',
  'refusal.customerNotSearchable.title': 'Fast fertig',
  'refusal.customerNotSearchable':
    'Ihr Konto wurde eingerichtet, aber das Hilfecenter findet es noch nicht. Bitte melden Sie sich in einem Moment erneut an.',
  'refusal.customerUnknown':
    'Dieses Hilfecenter kennt Ihr Konto noch nicht. Bitten Sie den Helpdesk, Sie als Kunden hinzuzufügen.',
  'refusal.emailMissing':
    'Die Anmeldung Ihrer Organisation hat Ihre E-Mail-Adresse nicht übermittelt, daher kann Ihr Konto nicht gefunden werden. Bitte wenden Sie sich an Ihren Administrator.',
  'refusal.idpUnknown':
    'Die Anmeldung hat nicht angegeben, welche Anmeldemethode verwendet wurde. Bitte melden Sie sich erneut über das Hilfecenter an.',
  'refusal.atlassianNotFound': 'Der gesuchte Eintrag wurde nicht gefunden.',
  'refusal.atlassianConflict': 'Dieser Eintrag ist bereits vorhanden.',
  'refusal.atlassianForbidden': 'Das Hilfecenter erlaubt diese Aktion nicht.',
  'refusal.atlassianBusy':
    'Das Hilfecenter ist gerade ausgelastet. Bitte versuchen Sie es in einer Minute erneut.',
  'refusal.atlassianBusyShortly':
    'Das Hilfecenter ist gerade ausgelastet. Bitte versuchen Sie es in ein paar Sekunden erneut.',
  'refusal.atlassianUnavailable':
    'Das Hilfecenter ist vorübergehend nicht verfügbar. Bitte versuchen Sie es in einer Minute erneut.',
  'refusal.atlassianTimeout':
    'Das Hilfecenter hat zu lange für die Antwort gebraucht. Bitte versuchen Sie es erneut.',
  'refusal.atlassianUnreachable':
    'Das Hilfecenter ist gerade nicht erreichbar. Bitte versuchen Sie es in einer Minute erneut.',
  'refusal.atlassianMisconfigured':
    'Das Hilfecenter ist nicht richtig eingerichtet. Bitte wenden Sie sich an Ihren Administrator.',
  'refusal.atlassianListTooLong':
    'Diese Anfrage oder Ihr Konto hat mehr Teilnehmer, Genehmigungen, Schritte oder Organisationen, als das Hilfecenter prüfen kann. Bitte wenden Sie sich an das Service-Desk-Team.',
  'refusal.atlassianError':
    'Bei der Verbindung mit dem Hilfecenter ist etwas schiefgelaufen. Bitte versuchen Sie es erneut.',

  'activity.accountNotFound': 'Dieses Konto wurde nicht gefunden.',
  'signIn.expired.title': 'Anmeldung abgelaufen',
  'signIn.expired':
    'Ihre Anmeldung hat zu lange gedauert oder wurde nicht hier begonnen. Bitte melden Sie sich erneut an.',
  'signIn.endedAtIdp':
    'Die Anmeldung Ihrer Organisation hat Ihre Sitzung beendet, während Sie sich anmeldeten. Bitte melden Sie sich erneut an.',
  'signIn.failed.title': 'Anmeldung fehlgeschlagen',
  'signIn.failed': 'Die Anmeldung konnte nicht überprüft werden. Bitte versuchen Sie es erneut.',
  'signIn.refused.title': 'Zugriff verweigert',
  'signOut.done': 'Sie sind abgemeldet.',
  'signOut.partial':
    'Sie sind vom Hilfecenter abgemeldet, die Anmeldung Ihrer Organisation ist aber möglicherweise noch aktiv. Schließen Sie den Browser, um sie zu beenden.',
  'signOut.failed.title': 'Abmeldung fehlgeschlagen',
  'signOut.failed': 'Die Abmeldenachricht konnte nicht überprüft werden.',
  'error.atlassianBusy.title': 'Das Hilfecenter ist ausgelastet',
  'error.atlassianBusy':
    'Das Hilfecenter ist gerade ausgelastet. Bitte versuchen Sie es in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut.',
  'error.uploadsBusy.title': 'Bitte versuchen Sie es erneut',
  'error.uploadsBusy':
    'Gerade werden viele Dateien hochgeladen. Bitte versuchen Sie es in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut.',

  'transition.title': '{transition}: {key}',
  'transition.question': '{transition}?',
  'transition.explain':
    '<strong>{key}</strong> {summary} wird mit „{transition}“ aktualisiert. Der Helpdesk sieht diese Änderung.',
  'transition.comment': 'Kommentar hinzufügen (optional)',
  'transition.keep': 'Anfrage unverändert lassen',

  'request.raisedBy': 'erstellt von {name}',
  'request.details': 'Details',
  'request.noDetails': 'Es wurden keine Details angegeben.',
  'request.activity': 'Aktivität',
  'request.noComments': 'Noch keine Kommentare. Fügen Sie unten einen hinzu; der Helpdesk sieht ihn.',
  'request.addComment': 'Kommentar hinzufügen',
  'request.comment': 'Kommentieren',
  'request.attachToComment':
    'Dateien anhängen (optional, bis zu {max, plural, one {# Datei} other {# Dateien}} mit je {size})',
  'request.attachments': 'Anhänge',
  'request.noFiles': 'Keine Dateien angehängt.',
  'request.filesUnlisted':
    'Einige Dateien dieser Anfrage können gerade nicht aufgelistet werden. Bitte versuchen Sie es in einigen Minuten erneut.',
  'refusal.fileVisibilityUnknown':
    'Wir können gerade nicht feststellen, ob Sie diese Datei öffnen dürfen. Bitte versuchen Sie es in einigen Minuten erneut.',
  'request.attachFile': 'Datei anhängen (bis {size})',
  'request.upload': 'Hochladen',
  'request.statusAside': 'Status der Anfrage',
  'request.status': 'Status',
  'request.notifications': 'Benachrichtigungen',
  'request.notificationsExplain':
    'Atlassian schickt Ihnen E-Mails zu dieser Anfrage. Um sie abzubestellen, nutzen Sie den Abmeldelink in diesen E-Mails. Hier gibt es keinen Schalter, weil dieses Hilfecenter über ein gemeinsames Dienstkonto arbeitet: Ein Schalter würde die Benachrichtigungen dieses Kontos ändern, nicht Ihre.',
  'request.sharedWith': 'Geteilt mit',
  'request.notShared': 'Noch mit niemandem geteilt.',
  'request.removeParticipant': '{name} entfernen',
  'request.remove': 'Entfernen',
  'request.shareWithLabel': 'Mit jemandem aus Ihrer Organisation teilen',
  'request.nobodyToShareWith': 'Niemand sonst aus Ihren Organisationen kann hinzugefügt werden.',
  'request.share': 'Teilen',
  'request.shareWithOrganizationLabel': 'Mit einer Ihrer Organisationen teilen',
  'request.stopSharing': 'Teilen beenden',
  'request.stopSharingWith': 'Teilen beenden: {organization}',
  'request.otherOrganizations':
    'Außerdem geteilt mit {count, plural, one {# weiteren Organisation} other {# weiteren Organisationen}}.',
  'request.timeline.raised': '<strong>{author}</strong> hat diese Anfrage {when} erstellt',
  'request.timeline.files':
    '<strong>{author}</strong> hat {count, plural, one {eine Datei} other {# Dateien}} angehängt {when}',
  'request.timeline.earlierCommentsUnread':
    'Frühere Kommentare werden nicht angezeigt: Diese Anfrage hat mehr, als das Hilfecenter liest.',
  'request.timeline.olderStatusesUnread':
    'Ältere Statusänderungen werden nicht angezeigt: Diese Anfrage hat mehr, als das Hilfecenter liest.',
  'request.timeline.status': 'Status geändert in {status} {when}',
  'request.decision.approved': 'Genehmigt',
  'request.decision.declined': 'Abgelehnt',
  'activity.title': 'Aktivität',
  'activity.heading': 'Kundenaktivität',
  'activity.intro':
    'Die letzten Anmeldungen (bis zu 500, 30 Tage aufbewahrt). Das Portal speichert nur Atlassian-Konto-IDs, Client-IPs und Anmeldezeiten; Namen werden bei jeder Anzeige dieser Seite bei Atlassian abgefragt und nicht gespeichert.',
  'activity.revoked': 'Alle Portalsitzungen von {name} wurden beendet. Die Person muss sich erneut anmelden.',
  'activity.namesUnavailable':
    'Namen können gerade nicht von Atlassian abgerufen werden; Personen werden mit ihrer Konto-ID angezeigt.',
  'activity.filter': 'Aktivität filtern',
  'activity.query': 'Name, E-Mail, Konto-ID oder IP',
  'activity.period': 'Angemeldet',
  'activity.period.all': 'Letzte 30 Tage',
  'activity.period.day': 'Letzte 24 Stunden',
  'activity.period.week': 'Letzte 7 Tage',
  'activity.filterButton': 'Filtern',
  'activity.count': '{count, plural, one {# Person} other {# Personen}}',
  'activity.empty': 'Keine Anmeldungen gefunden.',
  'activity.caption': 'Anmeldungen, neueste zuerst',
  'activity.name': 'Name',
  'activity.accountId': 'Konto-ID',
  'activity.lastSignIn': 'Letzte Anmeldung',
  'activity.clientIp': 'Client-IP',
  'activity.sessions': 'Sitzungen',
  'activity.unknownName': 'Unbekannt',
  'activity.endSessions': 'Sitzungen beenden',
  'activity.endSessionsOf': 'Sitzungen beenden von {name}',
  'activity.previousPage': 'Vorherige Seite',
  'activity.pageOf': 'Seite {page} von {count}',

  'error.requestRefused.title': 'Anfrage abgelehnt',
  'error.formExpired':
    'Dieses Formular ist abgelaufen. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es noch einmal.',
  'error.signedOut.title': 'Abgemeldet',
  'error.sessionEnded':
    'Ihre Sitzung ist abgelaufen, bevor Ihr Formular gesendet wurde; es wurde nichts gespeichert. Melden Sie sich erneut an: Sie kommen mit Ihrem Text zum Formular zurück.',
  'error.notFound.title': 'Nicht gefunden',
  'error.notFound.page': 'Diese Seite wurde nicht gefunden.',
  'error.slowDown.title': 'Bitte etwas langsamer',
  'error.slowDown':
    'Sie haben das zu oft getan. Bitte warten Sie {seconds, plural, one {# Sekunde} other {# Sekunden}} und versuchen Sie es erneut.',
  'error.writeUncertain':
    'Es wurde nichts gesendet: Das Hilfecenter hat einen Teil seines Speichers neu gestartet und kann noch nicht sicher sein, dass dieses Formular nicht schon von einem vorherigen Klick gesendet wird. Sehen Sie unter Meine Anfragen nach und senden Sie es in {seconds, plural, one {# Sekunde} other {# Sekunden}} erneut (es wird nur gesendet, wenn das vorherige bis dahin nicht da ist; trifft dieses noch später ein, erscheinen beide).',
  'error.writeInProgress':
    'Dieses Formular wird von Ihrem vorherigen Klick noch gesendet. Sehen Sie gleich unter Meine Anfragen nach, bevor Sie es erneut senden.',
  'error.failed.title': 'Etwas ist schiefgelaufen',
  'error.tryLater': 'Bitte versuchen Sie es später noch einmal.',
  'error.storeFull':
    'Das Hilfecenter hat gerade keinen Platz dafür. Er wird frei, sobald frühere Besuche enden: Bitte versuchen Sie es in einer Minute erneut.',
  'error.storeRefused':
    'Das Hilfecenter ist wegen eines Problems auf Seiten des Dienstes nicht verfügbar, das seine Betreiber beheben müssen. Ein erneuter Versuch hilft erst, wenn sie es behoben haben. Wenn es anhält, nennen Sie bei Ihrer Meldung die Referenz unten.',
  'error.requestMoved':
    'Diese Anfrage wurde verschoben und hat eine neue Nummer: Öffnen Sie sie unter „Meine Anfragen“.',
  'error.requestNotFound': 'Diese Anfrage wurde nicht gefunden.',

  'approvals.title': 'Genehmigungen',
  'approvals.requested':
    '<strong>Ihre Genehmigung wird angefragt.</strong> Atlassian hat Ihnen eine E-Mail zu dieser Anfrage geschickt: Antworten Sie mit der Schaltfläche <em>Genehmigen</em> oder <em>Ablehnen</em> in dieser E-Mail.',
  'approvals.whyNotHere':
    'Dieses Hilfecenter kann Ihre Antwort nicht erfassen: Jira Service Management nimmt eine Genehmigung nur vom eigenen Atlassian-Konto der genehmigenden Person an, und das Hilfecenter arbeitet über ein gemeinsames Dienstkonto. Wenn Sie die E-Mail nicht finden, schreiben Sie das unten in einen Kommentar; der Helpdesk kümmert sich darum.',
  'approvals.approval': 'Genehmigung',
  'approvals.outcome.pending': 'Wartet auf Genehmigung',
  'approvals.answer.pending': 'Noch nicht beantwortet',
  'approvals.approver': '{name}{you, select, yes { (Sie)} other {}}: {answer}',

  'profile.title': 'Profil',
  'profile.name': 'Name',
  'profile.organizations': 'Organisationen',
  'profile.none': 'Keine',
  'profile.managed':
    'Ihr Name und Ihre E-Mail-Adresse werden von der Anmeldung Ihrer Organisation verwaltet.',
  'profile.signOut': 'Abmelden',

  'message.signIn': 'Anmelden',
  'message.backHome': 'Zurück zum Hilfecenter',
  'message.reference': 'Referenz:',
  'signingOut.title': 'Abmeldung',
  'signingOut.message':
    'Sie sind vom Hilfecenter abgemeldet. <link>Weiter</link>, um sich auch bei der Anmeldung Ihrer Organisation abzumelden.',

  'broker.backTo': 'Zurück zu {site}',
  'broker.continue': 'Weiter',
  'broker.choose.title': 'Anmelden',
  'broker.choose.heading': 'Bei {site} anmelden',
  'broker.choose.email': 'Geschäftliche E-Mail-Adresse',
  'broker.choose.or': 'oder wählen Sie, wo Sie sich anmelden:',
  'broker.choose.noMethodForDomain':
    'Für diese E-Mail-Domain ist keine Anmeldemethode eingerichtet. Wählen Sie unten eine aus.',
  'broker.choose.methodNotOffered':
    'Die Anmeldemethode dieser E-Mail-Domain kann für diese Anmeldung nicht verwendet werden. Wählen Sie unten eine aus.',
  'broker.post.title': 'Sie werden angemeldet',
  'broker.post.noScript': 'Ihr Browser führt keine Skripte aus; klicken Sie auf „Weiter“.',
  'broker.signedOut.title': 'Abgemeldet',
  'broker.signedOut.message':
    'Die Anmeldung Ihrer Organisation ist beendet. Im Hilfecenter sind Sie möglicherweise noch angemeldet: Melden Sie sich auch dort ab.',
  'broker.refused.title': 'Anmeldung abgelehnt',
  'broker.refused.signOutTitle': 'Abmeldung nicht abgeschlossen',
  'broker.refused.expired':
    'Diese Anmeldung ist abgelaufen oder wurde bereits abgeschlossen. Beginnen Sie erneut im Hilfecenter.',
  'broker.refused.otherBrowser':
    'Diese Anmeldung wurde in einem anderen Browser begonnen. Beginnen Sie in diesem Browser erneut im Hilfecenter.',
  'broker.refused.form':
    'Dieses Formular wurde nicht von der Anmeldeseite gesendet. Beginnen Sie erneut im Hilfecenter.',
  'broker.refused.unknownMethod': 'Diese Anmeldemethode gibt es nicht.',
  'broker.refused.notAccepted':
    'Die Anmeldung Ihrer Organisation hat keine E-Mail-Adresse bestätigt, die dieses Hilfecenter von ihr annimmt.',
  'broker.refused.identity':
    'Die Anmeldung Ihrer Organisation hat eine Identität gesendet, die dieses Hilfecenter nicht verwenden kann. Wenden Sie sich an Ihren Administrator.',
  'broker.refused.idpAnswer':
    'Die Antwort der Anmeldung Ihrer Organisation ließ sich nicht prüfen. Beginnen Sie erneut im Hilfecenter.',
  'broker.refused.message':
    'Eine Anmeldenachricht hat die Sicherheitsprüfungen nicht bestanden. Beginnen Sie erneut im Hilfecenter.',
  'broker.refused.signOutExpired': 'Diese Abmeldung ist abgelaufen oder wurde bereits abgeschlossen.',
  'broker.refused.notFound': 'Hier gibt es nichts.',
  'broker.refused.idpSessionEnded':
    'Die Anmeldung Ihrer Organisation hat Ihre Sitzung beendet, während Sie sich anmeldeten. Beginnen Sie erneut im Hilfecenter.',
  'broker.refused.other':
    'Diese Anmeldung konnte nicht abgeschlossen werden. Beginnen Sie erneut im Hilfecenter.',
  'broker.unavailable.title': 'Die Anmeldung ist vorübergehend nicht verfügbar',
  'broker.unavailable.message': 'Bitte versuchen Sie es in wenigen Augenblicken erneut.',
  'broker.storeFull.title': 'Die Anmeldung ist ausgelastet',
  'broker.storeFull.message':
    'Für neue Anmeldungen ist gerade kein Platz. Er wird frei, sobald frühere Anmeldungen enden: Bitte versuchen Sie es in einer Minute erneut.',
  'broker.storeRefused.title': 'Die Anmeldung ist nicht verfügbar',
  'broker.storeRefused.message':
    'Die Anmeldung ist wegen eines Problems auf Seiten des Dienstes nicht verfügbar, das seine Betreiber beheben müssen. Ein erneuter Versuch hilft erst, wenn sie es behoben haben. Wenn es anhält, nennen Sie bei Ihrer Meldung die Referenz unten.',
};
