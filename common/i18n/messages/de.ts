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
  'error.localeUnknown.message': 'Dieses Help Center ist in dieser Sprache nicht verfügbar.',

  'home.title': 'Help Center',
  'home.welcome': 'Willkommen bei {site}',
  'home.searchLabel': 'Wissensdatenbank durchsuchen',
  'home.searchPrompt': 'Wobei können wir Ihnen helfen?',
  'home.search': 'Suchen',
  'home.kbResults': 'Ergebnisse aus der Wissensdatenbank',
  'home.kbNoResults': 'Keine Artikel passen zu Ihrer Suche.',
  'home.desks': 'Service-Desks',
  'home.noDesks': 'Für Sie sind keine Service-Desks verfügbar.',
  'home.raiseRequest': 'Anfrage stellen',

  'layout.breadcrumb': 'Brotkrümelnavigation',
  'article.stillNeedHelp': 'Brauchen Sie weitere Hilfe? <link>Stellen Sie eine Anfrage bei {desk}</link>.',

  'desk.findRequestType': 'Anfragetyp suchen',
  'desk.otherGroup': 'Sonstige',
  'desk.noMatches': 'Keine Anfragetypen gefunden.',
  'desk.groupsNav': 'Gruppen von Anfragetypen',
  'desk.requestTypes': 'Anfragetypen',
  'desk.matching': 'Anfragetypen zu „{search}“',
};
