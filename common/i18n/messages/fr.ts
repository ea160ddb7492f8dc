import type { Catalogue } from './en.js';

export const fr: Catalogue = {
  'locale.name': 'Français',

  'layout.skipToContent': 'Aller au contenu',
  'layout.accountNav': 'Compte',
  'layout.requests': 'Demandes',
  'layout.activity': 'Activité',
  'layout.poweredBy': 'Propulsé par Jira Service Management',
  'layout.language': 'Langue',
  'layout.pageTitle': '{page} - {site}',

  'error.localeUnknown.title': 'Langue non disponible',
  'error.localeUnknown.message': 'Ce centre d’aide n’est pas proposé dans cette langue.',

  'home.title': 'Centre d’aide',
  'home.welcome': 'Bienvenue sur {site}',
  'home.searchLabel': 'Rechercher dans la base de connaissances',
  'home.searchPrompt': 'Comment pouvons-nous vous aider ?',
  'home.search': 'Rechercher',
  'home.kbResults': 'Résultats de la base de connaissances',
  'home.kbNoResults': 'Aucun article ne correspond à votre recherche.',
  'home.desks': 'Centres de services',
  'home.noDesks': 'Aucun centre de services ne vous est accessible.',
  'home.raiseRequest': 'Créer une demande',

  'layout.breadcrumb': 'Fil d’Ariane',
  'article.stillNeedHelp': 'Besoin d’aide supplémentaire ? <link>Créez une demande auprès de {desk}</link>.',

  'desk.findRequestType': 'Trouver un type de demande',
  'desk.otherGroup': 'Autres',
  'desk.noMatches': 'Aucun type de demande ne correspond.',
  'desk.groupsNav': 'Groupes de types de demande',
  'desk.requestTypes': 'Types de demande',
  'desk.matching': 'Types de demande correspondant à « {search} »',
};
