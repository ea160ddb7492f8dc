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
  'home.announcement': 'Annonce',
  'home.searchLabel': 'Rechercher dans le centre d’aide',
  'home.searchPrompt': 'Comment pouvons-nous vous aider\u00a0?',
  'home.search': 'Rechercher',
  'home.kbNoResults': 'Aucun article ne correspond à votre recherche.',
  'home.desks': 'Centres de services',
  'home.noDesks': 'Aucun centre de services ne vous est accessible.',
  'home.raiseRequest': 'Créer une demande',
  'home.signInPrompt': '<link>Connectez-vous</link> pour créer une demande ou suivre vos demandes.',
  'home.kbHint': 'Lancez une recherche pour trouver des réponses dans la base de connaissances de {desks}.',
  'home.kbNone': 'Aucune base de connaissances ne vous est accessible.',
  'home.knowledgeBase': 'Base de connaissances',
  'home.requestTypesNoResults': 'Aucun type de demande ne correspond à votre recherche.',
  'home.requestTypes': 'Types de demande',

  'layout.breadcrumb': 'Fil d’Ariane',
  'article.stillNeedHelp':
    'Besoin d’aide supplémentaire\u00a0? <link>Créez une demande auprès de {desk}</link>.',

  'desk.otherGroup': 'Autres',
  'desk.searchKnowledgeBase': 'Rechercher dans la base de connaissances',
  'desk.searchAll': 'Rechercher des types de demande et des articles',
  'desk.noMatches': 'Aucun type de demande ne correspond.',
  'desk.groupsNav': 'Groupes de types de demande',
  'desk.requestTypes': 'Types de demande',
  'desk.matching': 'Types de demande correspondant à «\u00a0{search}\u00a0»',

  'requests.title': 'Demandes',
  'requests.filterLabel': 'Filtrer les demandes',
  'requests.status': 'Statut',
  'requests.ownership': 'Demandes',
  'requests.ownership.all': 'Toutes',
  'requests.ownership.mine': 'Créées par moi',
  'requests.ownership.shared': 'Partagées avec moi',
  'requests.ownership.approvals': 'Approbations (je suis approbateur)',
  'requests.ownership.approvalsPending': 'En attente de mon approbation',
  'requests.ownership.approvalsDone': 'Approbations qui ne m’attendent plus',
  'requests.ownership.organizations': 'Partagées avec mon organisation',
  'requests.status.open': 'Demandes ouvertes',
  'requests.status.closed': 'Demandes fermées',
  'requests.status.all': 'Toutes les demandes',
  'requests.statusCategory.new': 'À faire',
  'requests.statusCategory.indeterminate': 'En cours',
  'requests.statusCategory.done': 'Terminé',
  'requests.search': 'Recherche',
  'requests.filter': 'Filtrer',
  'requests.empty': 'Aucune demande trouvée.',
  'requests.noMore': 'Aucune autre demande.',
  'requests.notice.left': 'Vous ne participez plus à cette demande.',
  'requests.column.reference': 'Référence',
  'requests.column.summary': 'Résumé',
  'requests.column.status': 'Statut',
  'requests.column.requester': 'Demandeur',
  'requests.column.created': 'Créée',
  'requests.pages': 'Pages',
  'requests.nextPage': 'Page suivante',
  'requests.firstPage': 'Première page',
  'requests.desk': 'Centre de services',
  'requests.requestType': 'Type de demande',
  'requests.any': 'Tous',
  'requests.sortBy': 'Trier par',
  'requests.sort.createdDesc': 'Les plus récentes d’abord',
  'requests.sort.createdAsc': 'Les plus anciennes d’abord',
  'requests.sort.updatedDesc': 'Mises à jour récemment',
  'requests.sort.updatedAsc': 'Mises à jour il y a le plus longtemps',
  'requests.column.desk': 'Centre de services',
  'requests.column.requestType': 'Type de demande',
  'requests.range': 'Demandes {first}–{last}',
  'requests.rangeOf': 'Demandes {first}–{last} sur {total}',
  'requests.rangeOfAbout': 'Demandes {first}–{last} sur environ {total}',
  'requests.previous': 'Précédent',

  'create.suggestedArticles': 'Articles qui pourraient vous aider',
  'create.suggestedArticlesHelp': 'Chacun s’ouvre dans un nouvel onglet\u00a0; votre formulaire reste ici.',
  'create.hint.text': 'Une ligne, 255 caractères au maximum.',
  'create.hint.paragraph':
    'Autant de détails que vous le souhaitez\u00a0; les retours à la ligne sont conservés.',
  'create.hint.chooseOne': 'Choisissez une option.',
  'create.hint.chooseAll': 'Choisissez toutes les options qui s’appliquent.',
  'create.hint.cascadingSelect':
    'Choisissez une option\u00a0; prenez le choix le plus précis lorsqu’il y en a un.',
  'create.hint.date': 'Une date, par exemple 2030-01-31.',
  'create.hint.dateTime': 'Une date et une heure (fuseau horaire {zone}).',
  'create.hint.number': 'Un nombre, par exemple 42 ou 3.5.',
  'create.hint.url': 'Une adresse web commençant par https://.',
  'create.hint.labels': 'Des mots séparés par des espaces, par exemple voyage vpn.',
  'create.hint.attachment': 'Jusqu’à {max} fichiers. Types acceptés\u00a0: {types}.',
  'create.select': 'Sélectionner...',
  'create.labelsExample': 'étiquette-un étiquette-deux',
  'create.filledByDesk': '{field}\u00a0: ce champ est rempli par le support.',
  'create.audience': 'Pour qui est cette demande\u00a0?',
  'create.onBehalf': 'Créer cette demande au nom de',
  'colleagues.notEveryoneListed':
    'Les personnes de vos organisations ne sont pas toutes listées\u00a0: l’une d’elles en compte plus que le centre d’aide n’en lit.',
  'create.onBehalfHelp': 'Une personne de vos organisations. Vous suivez aussi la demande.',
  'create.myself': 'Moi-même',
  'create.shareWith': 'Partager avec',
  'create.shareHelp': 'Ces personnes voient la demande et suivent ses mises à jour.',
  'create.everyoneIn': 'Tout le monde dans {organization}',
  'create.myRequests': 'Mes demandes',
  'create.send': 'Envoyer',
  'create.cancel': 'Annuler',

  'error.deskNotFound': 'Nous n’avons pas trouvé ce centre de services.',
  'error.articleNotFound': 'Nous n’avons pas trouvé cet article.',
  'error.requestTypeNotFound': 'Nous n’avons pas trouvé ce type de demande.',
  'error.noIcon': 'Ce type de demande n’a pas d’icône.',
  'create.needsAttention': 'Certaines informations demandent votre attention.',
  'create.noAttachments': 'Ce type de demande n’accepte pas de pièces jointes.',
  'create.problem.required': 'Le champ {field} est obligatoire.',
  'create.problem.tooLong': 'Le champ {field} ne doit pas dépasser {max, number} caractères.',
  'create.problem.choiceInvalid': 'Choisissez une valeur valide pour {field}.',
  'create.problem.choicesInvalid': 'Choisissez des valeurs valides pour {field}.',
  'create.problem.dateInvalid': 'Le champ {field} doit contenir une date, par exemple 2030-01-31.',
  'create.problem.dateTimeInvalid': 'Le champ {field} doit contenir une date et une heure.',
  'create.problem.numberInvalid': 'Le champ {field} doit contenir un nombre.',
  'create.problem.urlInvalid':
    'Le champ {field} doit contenir une adresse web commençant par https:// ou http://.',
  'create.problem.labelTooLong':
    'Chaque étiquette du champ {field} ne doit pas dépasser {max, number} caractères.',
  'create.problem.unsupported':
    'Le champ {field} ne peut pas être rempli ici\u00a0; veuillez contacter le support.',
  'create.problem.refusedByDesk': 'Le support n’a pas accepté cette valeur\u00a0: {detail}',
  'create.problem.requestRefusedByDesk': 'Le support n’a pas accepté la demande\u00a0: {detail}',
  'create.problem.notAColleague':
    'Vous ne pouvez créer une demande qu’au nom d’une personne de celles de vos organisations que ce centre de services a.',
  'create.problem.shareOutside':
    'Vous ne pouvez partager une demande qu’avec celles de vos organisations que ce centre de services a et leurs membres.',
  'create.notCreated':
    'Votre demande n’a pas été créée. Vos informations sont conservées ci-dessous\u00a0: renvoyez le formulaire quand vous êtes prêt (cela ne créera pas de seconde demande), ou consultez Mes demandes.',
  'create.outcomeUnknown':
    'Nous n’avons pas pu vérifier si votre demande a été créée. Consultez Mes demandes avant de la renvoyer.',
  'create.outcomeUnknownHeld':
    'Nous n’avons pas pu vérifier si votre demande a été créée. Elle est peut-être encore en cours d’envoi\u00a0: consultez d’abord Mes demandes (une demande tout juste créée peut mettre quelques minutes à y apparaître). Vos réponses sont conservées ci-dessous\u00a0; vous pourrez renvoyer ce formulaire dans {seconds, plural, one {# seconde} other {# secondes}} (il ne créera la demande que si la précédente n’est pas arrivée d’ici là\u00a0; si celle-ci arrive plus tard encore, vous aurez les deux).',
  'create.stillChecked':
    'Nous vérifions encore si la demande envoyée par votre clic précédent a été créée\u00a0: elle est peut-être encore en cours d’envoi, donc rien n’a été envoyé cette fois-ci. Consultez Mes demandes dans un instant\u00a0; vos réponses sont conservées ci-dessous, et vous pourrez renvoyer ce formulaire dans {seconds, plural, one {# seconde} other {# secondes}} (il ne créera la demande que si la précédente n’est pas arrivée d’ici là\u00a0; si celle-ci arrive plus tard encore, vous aurez les deux).',
  'create.inProgress':
    'Votre demande est encore en cours d’envoi depuis votre clic précédent\u00a0; son résultat sera connu dans {seconds, plural, one {# seconde} other {# secondes}} au plus tard. Consultez alors Mes demandes\u00a0; vos réponses sont conservées ci-dessous, et renvoyer ce formulaire ne créera la demande que si la précédente n’est pas arrivée d’ici là (si celle-ci arrive plus tard encore, vous aurez les deux).',
  'create.outcomeUnknownNewForm':
    'Nous n’avons pas pu vérifier si votre demande a été créée. Ce formulaire ne peut pas le savoir\u00a0: consultez d’abord Mes demandes (une demande tout juste créée peut mettre quelques minutes à y apparaître)\u00a0: renvoyer ce formulaire crée une nouvelle demande.',
  'create.writeKeyForeign':
    'Ce formulaire a déjà été envoyé, pour une demande que vous ne suivez pas\u00a0: rien n’a donc été envoyé cette fois. Vos réponses sont conservées ci-dessous dans un nouveau formulaire\u00a0: envoyez-le pour créer une nouvelle demande.',

  'request.notice.created': 'Votre demande a été envoyée.',
  'request.notice.unshared':
    'Votre demande a été envoyée, mais elle n’a pas pu être partagée avec votre organisation. Demandez au support de la partager, ou partagez-la ci-dessous avec des personnes.',
  'request.notice.commented': 'Votre commentaire a été ajouté.',
  'request.notice.uploaded': 'Votre fichier a été joint.',
  'request.notice.shared': 'Le partage a été mis à jour.',
  'request.notice.moved': 'La demande a été mise à jour.',
  'request.refused.notAvailable': 'Non disponible',
  'request.refused.approverOnly':
    'En tant qu’approbateur de cette demande, vous pouvez la lire et la commenter (votre réponse passe par l’e-mail d’Atlassian)\u00a0; la modifier revient aux personnes à qui elle appartient.',
  'request.refused.commentEmpty': 'Écrivez d’abord un commentaire.',
  'request.refused.commentNotAdded':
    'Votre commentaire n’a pas été ajouté. Il est conservé ci-dessous\u00a0: renvoyez-le quand vous êtes prêt (il ne sera pas ajouté deux fois).',
  'request.leftUnconfirmed.title': 'Non confirmé',
  'request.leftUnconfirmed':
    'Nous n’avons pas pu vérifier si vous avez été retiré de cette demande. Si c’est le cas, vous ne la voyez peut-être plus\u00a0: Mes demandes liste toutes les demandes que vous pouvez voir.',
  'request.unreadable.title': 'Cette demande ne peut pas être affichée pour le moment',
  'request.unreadable':
    'Nous n’avons pas pu la relire chez Atlassian à l’instant. Ce que vous avez envoyé est conservé ci-dessous\u00a0: quand la demande s’affichera de nouveau, vérifiez-la, puis envoyez ce formulaire s’il est encore nécessaire (il ne sera enregistré que si le précédent n’est pas arrivé d’ici là\u00a0; si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.unreadable.share':
    'Nous n’avons pas pu la relire chez Atlassian à l’instant. Votre choix est conservé ci-dessous\u00a0: quand la demande s’affichera de nouveau, vérifiez-la, puis envoyez-le s’il est encore nécessaire (il ne modifie la demande qu’une fois, quel que soit le nombre d’envois).',
  'request.unreadable.send': 'Renvoyer',
  'request.unreadable.open': 'Ouvrir la demande',
  'request.refused.commentInProgress':
    'Votre commentaire est encore en cours d’envoi depuis votre clic précédent\u00a0; son résultat sera connu dans {seconds, plural, one {# seconde} other {# secondes}} au plus tard. Revérifiez alors les commentaires de la demande\u00a0; votre commentaire est conservé ci-dessous, et renvoyé, il ne sera ajouté que si le précédent n’est pas arrivé d’ici là (si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.namedFileUndecided':
    'Rien n’a été envoyé\u00a0: nous ne pouvons pas vérifier les fichiers de cette demande pour le moment. Veuillez le renvoyer dans quelques minutes\u00a0; votre texte est conservé ci-dessous.',
  'request.refused.commentUnconfirmed':
    'Nous n’avons pas pu vérifier si votre commentaire a été ajouté. Consultez d’abord les commentaires de la demande\u00a0; votre commentaire est conservé ci-dessous, et renvoyé, il ne sera ajouté que si le précédent n’est pas arrivé d’ici là (si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.commentUnconfirmedHeld':
    'Nous n’avons pas pu vérifier si votre commentaire a été ajouté. Il est peut-être encore en cours d’envoi\u00a0: consultez d’abord les commentaires de la demande. Votre commentaire est conservé ci-dessous\u00a0; vous pourrez le renvoyer dans {seconds, plural, one {# seconde} other {# secondes}} (il ne sera ajouté que si le précédent n’est pas arrivé d’ici là\u00a0; si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.commentStillChecked':
    'Nous vérifions encore si le commentaire envoyé par votre clic précédent a été ajouté\u00a0: il est peut-être encore en cours d’envoi, donc rien n’a été envoyé cette fois-ci. Revérifiez les commentaires de la demande dans un instant\u00a0; votre commentaire est conservé ci-dessous, et vous pourrez le renvoyer dans {seconds, plural, one {# seconde} other {# secondes}} (il ne sera ajouté que si le précédent n’est pas arrivé d’ici là\u00a0; si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.stepUnavailable': 'Cette étape n’est pas disponible.',
  'request.refused.stepInProgress':
    'Cette étape est encore en cours d’envoi depuis votre clic précédent\u00a0; son résultat sera connu dans {seconds, plural, one {# seconde} other {# secondes}} au plus tard. Revérifiez alors le statut de la demande avant d’envoyer de nouveau cette étape.',
  'request.refused.stepCommentInProgress':
    'Cette étape est encore en cours d’envoi depuis votre clic précédent\u00a0; son résultat sera connu dans {seconds, plural, one {# seconde} other {# secondes}} au plus tard. Revérifiez alors le statut de la demande\u00a0; votre commentaire est conservé ci-dessous, et renvoyer ce formulaire n’effectuera l’étape avec son commentaire que si la précédente n’est pas arrivée d’ici là (si celle-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.stepNotSent':
    'La demande n’a pas été mise à jour. Vous pouvez envoyer de nouveau cette étape.',
  'request.refused.shareNotSent': 'Le partage n’a pas été modifié. Vous pouvez renvoyer la modification.',
  'request.refused.shareUnconfirmed':
    'Nous n’avons pas pu vérifier si le partage a été modifié. Regardez d’abord avec qui la demande est partagée\u00a0; renvoyer la modification ne l’appliquera qu’une fois.',
  'request.refused.stepUnconfirmed':
    'Nous n’avons pas pu vérifier si la demande a été mise à jour. Consultez son statut ci-dessous avant d’envoyer de nouveau cette étape.',
  'request.refused.stepUnconfirmedHeld':
    'Nous n’avons pas pu vérifier si la demande a été mise à jour. L’étape est peut-être encore en cours d’envoi\u00a0: consultez son statut ci-dessous avant de refaire cette étape. Votre commentaire est conservé ci-dessous\u00a0; vous pourrez le renvoyer dans {seconds, plural, one {# seconde} other {# secondes}} (il ne sera ajouté que si le précédent n’est pas arrivé d’ici là\u00a0; si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.stepStillChecked':
    'Nous vérifions encore si votre clic précédent a mis à jour la demande\u00a0: l’étape est peut-être encore en cours d’envoi, donc rien n’a été envoyé cette fois-ci. Revérifiez son statut ci-dessous dans un instant\u00a0; votre commentaire est conservé ci-dessous, et vous pourrez le renvoyer dans {seconds, plural, one {# seconde} other {# secondes}} (il ne sera ajouté que si le précédent n’est pas arrivé d’ici là\u00a0; si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.stepUnavailableHere': 'Cette étape n’est pas disponible pour cette demande.',
  'request.refused.commentTooLong': 'Le commentaire est trop long.',
  'request.refused.shareOrganizationsOnly':
    'Vous ne pouvez partager une demande qu’avec des personnes de celles de vos organisations que son centre de services a.',
  'request.refused.notParticipant': 'Cette personne ne participe pas à cette demande.',
  'request.refused.shareOwnOrganizationsOnly':
    'Vous ne pouvez partager une demande qu’avec les organisations dont vous faites partie.',
  'request.refused.shareDeskOrganizationsOnly':
    'Vous ne pouvez partager une demande qu’avec celles de vos organisations que son centre de services a.',
  'request.refused.organizationSharingUnavailable':
    'Ce centre d’aide ne peut pas partager les demandes avec des organisations.',
  'request.refused.unshareReporterOnly':
    'Seule la personne qui a créé cette demande peut arrêter de la partager avec une organisation.',
  'request.refused.notSharedWithOrganization': 'Cette demande n’est pas partagée avec cette organisation.',
  'request.refused.noFile': 'Choisissez un fichier à joindre.',
  'error.uploadRefused.title': 'Envoi refusé',
  'request.refused.fileNotAttached':
    'Votre fichier n’a pas été joint\u00a0; choisissez-le et envoyez-le à nouveau.',
  'request.refused.fileInProgress':
    'Votre fichier est encore en cours d’envoi depuis votre clic précédent\u00a0; son résultat sera connu dans {seconds, plural, one {# seconde} other {# secondes}} au plus tard. Revérifiez alors les fichiers de la demande\u00a0; pour le renvoyer, choisissez-le ci-dessous et envoyez-le\u00a0: il ne sera joint que si le précédent n’est pas arrivé d’ici là (si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.fileUnconfirmed':
    'Nous n’avons pas pu vérifier si votre fichier a été joint. Consultez d’abord les fichiers de la demande\u00a0; pour le renvoyer, choisissez-le ci-dessous et envoyez-le\u00a0: il ne sera joint que si le précédent n’est pas arrivé d’ici là (si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.fileUnconfirmedHeld':
    'Nous n’avons pas pu vérifier si votre fichier a été joint. Il est peut-être encore en cours d’envoi\u00a0: consultez d’abord les fichiers de la demande. Vous pourrez le renvoyer dans {seconds, plural, one {# seconde} other {# secondes}}\u00a0: choisissez-le ci-dessous et envoyez-le (il ne sera joint que si le précédent n’est pas arrivé d’ici là\u00a0; si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'request.refused.fileStillChecked':
    'Nous vérifions encore si le fichier envoyé par votre clic précédent a été joint\u00a0: il est peut-être encore en cours d’envoi, donc rien n’a été envoyé cette fois-ci. Revérifiez les fichiers de la demande dans un instant\u00a0; vous pourrez le renvoyer dans {seconds, plural, one {# seconde} other {# secondes}}\u00a0: choisissez-le ci-dessous et envoyez-le (il ne sera joint que si le précédent n’est pas arrivé d’ici là\u00a0; si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'upload.acceptedTypes': 'Types acceptés\u00a0: {types}.',
  'upload.chooseAgain': 'Rien n’a été envoyé\u00a0; veuillez choisir à nouveau vos fichiers.',
  'refusal.uploadContent':
    'Ce fichier n’est pas ce que son nom indique ({filename})\u00a0: son contenu est d’un autre type.',
  'refusal.uploadEmpty': 'Ce fichier est vide ({filename}).',
  'refusal.uploadType': 'Les fichiers de ce type ne peuvent pas être joints ({filename}).',
  'refusal.uploadTooLarge': '{filename} dépasse {size}, la taille maximale d’un fichier.',
  'refusal.uploadTooMany':
    'Vous pouvez joindre au plus {max, plural, one {# fichier} other {# fichiers}} à la fois.',
  'refusal.formUnreadable': 'Le formulaire n’a pas pu être lu.',
  'refusal.formTooLarge':
    'Le formulaire envoyé est trop volumineux. Rien n’a été envoyé. Un texte peut compter au plus {max, number} caractères et un fichier peser au plus {size}. Revenez au formulaire avec le bouton Précédent de votre navigateur (la plupart des navigateurs y conservent ce que vous avez saisi), raccourcissez le texte ou choisissez des fichiers plus petits, puis renvoyez-le.',
  'refusal.bodyTooLarge':
    'Le formulaire envoyé est trop volumineux. Rien n’a été envoyé. Un texte peut compter au plus {max, number} caractères. Revenez au formulaire avec le bouton Précédent de votre navigateur (la plupart des navigateurs y conservent ce que vous avez saisi), raccourcissez le texte, puis renvoyez-le.',
  'refusal.formTooManyFields': 'Le formulaire envoyé contient trop de champs.',
  'refusal.formEncoding': 'L’encodage du formulaire n’est pas pris en charge.',
  'refusal.pageLinkExpired': 'Ce lien de page n’est plus valide. Recommencez à partir de la première page.',
  'refusal.actionInvalid': 'Cette action n’est pas possible sur cette demande.',
  'refusal.accessDenied':
    'Votre compte ne fait partie d’aucun groupe autorisé à utiliser ce centre d’aide. Demandez l’accès à votre administrateur.',
  'refusal.accountService':
    'Il s’agit du compte de service du centre d’aide lui-même, qui ne peut pas se connecter ici. Veuillez vous connecter avec votre propre compte client.',
  'refusal.accountLicensed':
    'Les comptes d’agent et d’administrateur ne peuvent pas se connecter à ce centre d’aide. Veuillez vous connecter avec votre compte client.',
  'refusal.accountType':
    'Les comptes d’application et les comptes système ne peuvent pas se connecter à ce centre d’aide. Veuillez vous connecter avec votre compte client.',
  'refusal.accountInactive':
    'Votre compte n’a plus accès à ce centre d’aide. Si vous pensez qu’il s’agit d’une erreur, contactez le support.',
  'refusal.accountUnchecked': 'Votre compte n’a pas pu être vérifié. Veuillez réessayer plus tard.',
  'refusal.customerNotSearchable.title': 'Presque prêt',
  'refusal.customerNotSearchable':
    'Votre compte a été créé, mais le centre d’aide ne le trouve pas encore. Veuillez vous reconnecter dans un instant.',
  'refusal.customerUnknown':
    'Ce centre d’aide ne connaît pas encore votre compte. Demandez au support de vous ajouter comme client.',
  'refusal.emailMissing':
    'La connexion de votre organisation n’a pas transmis votre adresse e-mail\u00a0: votre compte est introuvable. Veuillez en informer votre administrateur.',
  'refusal.idpUnknown':
    'La connexion n’a pas indiqué quelle méthode de connexion a été utilisée. Veuillez vous reconnecter depuis le centre d’aide.',
  'refusal.atlassianNotFound': 'Nous n’avons pas trouvé cet élément.',
  'refusal.atlassianConflict': 'Cet élément existe déjà.',
  'refusal.atlassianForbidden': 'Le centre d’aide n’autorise pas cette action.',
  'refusal.atlassianBusy':
    'Le centre d’aide est très sollicité en ce moment. Veuillez réessayer dans une minute.',
  'refusal.atlassianBusyShortly':
    'Le centre d’aide est très sollicité en ce moment. Veuillez réessayer dans quelques secondes.',
  'refusal.atlassianUnavailable':
    'Le centre d’aide est temporairement indisponible. Veuillez réessayer dans une minute.',
  'refusal.atlassianTimeout': 'Le centre d’aide a mis trop de temps à répondre. Veuillez réessayer.',
  'refusal.atlassianUnreachable':
    'Le centre d’aide est injoignable pour le moment. Veuillez réessayer dans une minute.',
  'refusal.atlassianMisconfigured':
    'Le centre d’aide n’est pas configuré correctement. Veuillez en informer votre administrateur.',
  'refusal.atlassianListTooLong':
    'Cette demande, ou votre compte, compte plus de participants, d’approbations, d’étapes ou d’organisations que le centre d’aide ne peut en vérifier. Veuillez vous adresser à l’équipe du centre de services.',
  'refusal.atlassianError':
    'Une erreur s’est produite lors de l’échange avec le centre d’aide. Veuillez réessayer.',

  'activity.accountNotFound': 'Ce compte est introuvable.',
  'signIn.expired.title': 'Connexion expirée',
  'signIn.expired':
    'Votre connexion a pris trop de temps ou n’a pas commencé ici. Veuillez vous reconnecter.',
  'signIn.endedAtIdp':
    'La connexion de votre organisation a mis fin à votre session pendant que vous vous connectiez. Veuillez vous reconnecter.',
  'signIn.failed.title': 'Échec de la connexion',
  'signIn.failed': 'La connexion n’a pas pu être vérifiée. Veuillez réessayer.',
  'signIn.refused.title': 'Accès refusé',
  'signOut.done': 'Vous êtes déconnecté.',
  'signOut.partial':
    'Vous êtes déconnecté du centre d’aide, mais la connexion de votre organisation est peut-être encore ouverte. Fermez le navigateur pour y mettre fin.',
  'signOut.failed.title': 'Échec de la déconnexion',
  'signOut.failed': 'Le message de déconnexion n’a pas pu être vérifié.',
  'error.atlassianBusy.title': 'Le centre d’aide est occupé',
  'error.atlassianBusy':
    'Le centre d’aide est occupé pour le moment. Veuillez réessayer dans {seconds, plural, one {# seconde} other {# secondes}}.',
  'error.uploadsBusy.title': 'Veuillez réessayer',
  'error.uploadsBusy':
    'De nombreux fichiers sont en cours d’envoi. Veuillez réessayer dans {seconds, plural, one {# seconde} other {# secondes}}.',

  'transition.title': '{transition}\u00a0: {key}',
  'transition.question': '{transition}\u00a0?',
  'transition.explain':
    '<strong>{key}</strong> {summary} sera mise à jour avec «\u00a0{transition}\u00a0». Le support voit ce changement.',
  'transition.comment': 'Ajouter un commentaire (facultatif)',
  'transition.keep': 'Laisser la demande telle quelle',

  'request.raisedBy': 'créée par {name}',
  'request.details': 'Détails',
  'request.noDetails': 'Aucun détail n’a été fourni.',
  'request.activity': 'Activité',
  'request.noComments':
    'Aucun commentaire pour l’instant. Ajoutez-en un ci-dessous\u00a0; le support le verra.',
  'request.addComment': 'Ajouter un commentaire',
  'request.comment': 'Commenter',
  'request.attachToComment':
    'Joindre des fichiers (facultatif, jusqu’à {max, plural, one {# fichier} other {# fichiers}} de {size} chacun)',
  'request.attachments': 'Pièces jointes',
  'request.noFiles': 'Aucun fichier joint.',
  'request.filesUnlisted':
    'Certains fichiers de cette demande ne peuvent pas être listés pour le moment. Veuillez réessayer dans quelques minutes.',
  'refusal.fileVisibilityUnknown':
    'Nous ne pouvons pas savoir pour le moment si vous pouvez ouvrir ce fichier. Veuillez réessayer dans quelques minutes.',
  'request.attachFile': 'Joindre un fichier (jusqu’à {size})',
  'request.upload': 'Téléverser',
  'request.statusAside': 'Statut de la demande',
  'request.status': 'Statut',
  'request.notifications': 'Notifications',
  'request.notificationsExplain':
    'Atlassian vous envoie des e-mails sur cette demande. Pour les arrêter, utilisez le lien de désabonnement de ces e-mails. Il n’y a pas d’interrupteur ici, car ce centre d’aide passe par un compte de service partagé\u00a0: un interrupteur modifierait les notifications de ce compte, pas les vôtres.',
  'request.sharedWith': 'Partagée avec',
  'request.notShared': 'Partagée avec personne pour l’instant.',
  'request.removeParticipant': 'Retirer {name}',
  'request.remove': 'Retirer',
  'request.shareWithLabel': 'Partager avec une personne de votre organisation',
  'request.nobodyToShareWith': 'Personne d’autre de vos organisations ne peut être ajouté.',
  'request.share': 'Partager',
  'request.shareWithOrganizationLabel': 'Partager avec l’une de vos organisations',
  'request.stopSharing': 'Ne plus partager',
  'request.stopSharingWith': 'Ne plus partager avec {organization}',
  'request.otherOrganizations':
    'Également partagée avec {count, plural, one {# autre organisation} other {# autres organisations}}.',
  'request.timeline.raised': '<strong>{author}</strong> a créé cette demande {when}',
  'request.timeline.files':
    '<strong>{author}</strong> a joint {count, plural, one {un fichier} other {# fichiers}} {when}',
  'request.timeline.earlierCommentsUnread':
    'Les commentaires plus anciens ne sont pas affichés\u00a0: cette demande en compte plus que le centre d’aide n’en lit.',
  'request.timeline.olderStatusesUnread':
    'Les changements de statut plus anciens ne sont pas affichés\u00a0: cette demande en compte plus que le centre d’aide n’en lit.',
  'request.timeline.status': 'Statut changé en {status} {when}',
  'request.decision.approved': 'Approuvée',
  'request.decision.declined': 'Refusée',
  'activity.title': 'Activité',
  'activity.heading': 'Activité des clients',
  'activity.intro':
    'Les connexions les plus récentes (jusqu’à 500, conservées 30 jours). Le portail ne conserve que les identifiants de compte Atlassian, les adresses IP et les heures de connexion\u00a0; les noms sont demandés à Atlassian à chaque affichage de cette page et ne sont pas conservés.',
  'activity.revoked':
    'Toutes les sessions du portail de {name} sont terminées. La personne doit se reconnecter.',
  'activity.namesUnavailable':
    'Les noms ne peuvent pas être obtenus d’Atlassian pour le moment\u00a0; les personnes sont affichées par identifiant de compte.',
  'activity.filter': 'Filtrer l’activité',
  'activity.query': 'Nom, e-mail, identifiant de compte ou IP',
  'activity.period': 'Connecté',
  'activity.period.all': '30 derniers jours',
  'activity.period.day': 'Dernières 24 heures',
  'activity.period.week': '7 derniers jours',
  'activity.filterButton': 'Filtrer',
  'activity.count': '{count, plural, one {# personne} other {# personnes}}',
  'activity.empty': 'Aucune connexion ne correspond.',
  'activity.caption': 'Connexions, les plus récentes d’abord',
  'activity.name': 'Nom',
  'activity.accountId': 'Identifiant de compte',
  'activity.lastSignIn': 'Dernière connexion',
  'activity.clientIp': 'IP du client',
  'activity.sessions': 'Sessions',
  'activity.unknownName': 'Inconnu',
  'activity.endSessions': 'Terminer les sessions',
  'activity.endSessionsOf': 'Terminer les sessions de {name}',
  'activity.previousPage': 'Page précédente',
  'activity.pageOf': 'Page {page} sur {count}',

  'error.requestRefused.title': 'Requête refusée',
  'error.formExpired': 'Ce formulaire a expiré. Revenez en arrière, rechargez la page et réessayez.',
  'error.signedOut.title': 'Déconnecté',
  'error.sessionEnded':
    'Votre session a expiré avant l’envoi du formulaire\u00a0; rien n’a été enregistré. Reconnectez-vous\u00a0: vous retrouverez le formulaire avec ce que vous avez écrit.',
  'error.notFound.title': 'Introuvable',
  'error.notFound.page': 'Cette page est introuvable.',
  'error.slowDown.title': 'Veuillez ralentir',
  'error.slowDown':
    'Vous avez fait cela trop souvent. Veuillez attendre {seconds, plural, one {# seconde} other {# secondes}} puis réessayer.',
  'error.writeUncertain':
    'Rien n’a été envoyé\u00a0: le centre d’aide a redémarré une partie de son stockage et ne peut pas encore être sûr que ce formulaire n’est pas déjà en cours d’envoi depuis un clic précédent. Regardez dans Mes demandes, puis renvoyez-le dans {seconds, plural, one {# seconde} other {# secondes}} (il ne sera envoyé que si le précédent n’est pas arrivé d’ici là\u00a0; si celui-ci arrive plus tard encore, les deux apparaîtront).',
  'error.writeInProgress':
    'Ce formulaire est encore en cours d’envoi depuis votre clic précédent. Regardez dans Mes demandes dans un instant avant de le renvoyer.',
  'error.failed.title': 'Une erreur s’est produite',
  'error.tryLater': 'Veuillez réessayer plus tard.',
  'error.storeFull':
    'Le centre d’aide n’a plus de place pour cela pour le moment. La place revient à mesure que les visites précédentes se terminent\u00a0: veuillez réessayer dans une minute.',
  'error.storeRefused':
    'Le centre d’aide est indisponible à cause d’un problème du côté du service, que ses opérateurs doivent corriger. Réessayer n’y changera rien tant qu’ils ne l’ont pas fait. Si cela dure, indiquez la référence ci-dessous en le signalant.',
  'error.requestMoved':
    'Cette demande a été déplacée et porte un nouveau numéro\u00a0: ouvrez-la depuis Mes demandes.',
  'error.requestNotFound': 'Cette demande est introuvable.',

  'approvals.title': 'Approbations',
  'approvals.requested':
    '<strong>Votre approbation est demandée.</strong> Atlassian vous a envoyé un e-mail au sujet de cette demande\u00a0: répondez avec le bouton <em>Approuver</em> ou <em>Refuser</em> de cet e-mail.',
  'approvals.whyNotHere':
    'Ce centre d’aide ne peut pas enregistrer votre réponse\u00a0: Jira Service Management n’accepte une approbation que depuis le compte Atlassian de l’approbateur, et le centre d’aide passe par un compte de service partagé. Si vous ne trouvez pas l’e-mail, indiquez-le dans un commentaire ci-dessous et le support fera le suivi.',
  'approvals.approval': 'Approbation',
  'approvals.outcome.pending': 'En attente d’approbation',
  'approvals.answer.pending': 'Pas encore de réponse',
  'approvals.approver': '{name}{you, select, yes { (vous)} other {}}\u00a0: {answer}',

  'profile.title': 'Profil',
  'profile.name': 'Nom',
  'profile.organizations': 'Organisations',
  'profile.none': 'Aucune',
  'profile.managed': 'Votre nom et votre adresse e-mail sont gérés par la connexion de votre organisation.',
  'profile.signOut': 'Se déconnecter',

  'message.signIn': 'Se connecter',
  'message.backHome': 'Retour au centre d’aide',
  'message.reference': 'Référence\u00a0:',
  'signingOut.title': 'Déconnexion',
  'signingOut.message':
    'Vous êtes déconnecté du centre d’aide. <link>Continuez</link> pour vous déconnecter aussi de la connexion de votre organisation.',

  'broker.backTo': 'Retour à {site}',
  'broker.continue': 'Continuer',
  'broker.choose.title': 'Se connecter',
  'broker.choose.heading': 'Se connecter à {site}',
  'broker.choose.email': 'Adresse e-mail professionnelle',
  'broker.choose.or': 'ou choisissez où vous vous connectez\u00a0:',
  'broker.choose.noMethodForDomain':
    'Aucune méthode de connexion n’est configurée pour ce domaine de messagerie. Choisissez-en une ci-dessous.',
  'broker.choose.methodNotOffered':
    'La méthode de connexion de ce domaine de messagerie ne peut pas être utilisée pour cette connexion. Choisissez-en une ci-dessous.',
  'broker.post.title': 'Connexion en cours',
  'broker.post.noScript':
    'Votre navigateur n’exécute pas de scripts\u00a0; appuyez sur «\u00a0Continuer\u00a0».',
  'broker.signedOut.title': 'Déconnecté',
  'broker.signedOut.message':
    'La connexion de votre organisation est terminée. Vous êtes peut-être encore connecté au centre d’aide\u00a0: déconnectez-vous aussi là-bas.',
  'broker.refused.title': 'Connexion refusée',
  'broker.refused.signOutTitle': 'Déconnexion non terminée',
  'broker.refused.expired':
    'Cette connexion a expiré ou est déjà terminée. Recommencez depuis le centre d’aide.',
  'broker.refused.otherBrowser':
    'Cette connexion a été commencée dans un autre navigateur. Recommencez depuis le centre d’aide dans celui-ci.',
  'broker.refused.form':
    'Ce formulaire n’a pas été envoyé depuis la page de connexion. Recommencez depuis le centre d’aide.',
  'broker.refused.unknownMethod': 'Cette méthode de connexion n’existe pas.',
  'broker.refused.notAccepted':
    'La connexion de votre organisation n’a pas confirmé d’adresse e-mail que ce centre d’aide accepte de sa part.',
  'broker.refused.identity':
    'La connexion de votre organisation a envoyé une identité que ce centre d’aide ne peut pas utiliser. Contactez votre administrateur.',
  'broker.refused.idpAnswer':
    'La réponse de la connexion de votre organisation n’a pas pu être vérifiée. Recommencez depuis le centre d’aide.',
  'broker.refused.message':
    'Un message de connexion n’a pas passé les contrôles de sécurité. Recommencez depuis le centre d’aide.',
  'broker.refused.signOutExpired': 'Cette déconnexion a expiré ou est déjà terminée.',
  'broker.refused.notFound': 'Il n’y a rien ici.',
  'broker.refused.idpSessionEnded':
    'La connexion de votre organisation a mis fin à votre session pendant que vous vous connectiez. Recommencez depuis le centre d’aide.',
  'broker.refused.other': 'Cette connexion n’a pas pu aboutir. Recommencez depuis le centre d’aide.',
  'broker.unavailable.title': 'La connexion est temporairement indisponible',
  'broker.unavailable.message': 'Veuillez réessayer dans quelques instants.',
  'broker.storeFull.title': 'La connexion est saturée',
  'broker.storeFull.message':
    'Il n’y a plus de place pour de nouvelles connexions pour le moment. La place revient à mesure que les connexions précédentes se terminent\u00a0: veuillez réessayer dans une minute.',
  'broker.storeRefused.title': 'La connexion est indisponible',
  'broker.storeRefused.message':
    'La connexion est indisponible à cause d’un problème du côté du service, que ses opérateurs doivent corriger. Réessayer n’y changera rien tant qu’ils ne l’ont pas fait. Si cela dure, indiquez la référence ci-dessous en le signalant.',
};
