import type { Catalogue } from './en.js';

export const ja: Catalogue = {
  'locale.name': '日本語',

  'layout.skipToContent': 'コンテンツへスキップ',
  'layout.accountNav': 'アカウント',
  'layout.requests': 'リクエスト',
  'layout.activity': 'アクティビティ',
  'layout.poweredBy': 'Jira Service Management で稼働',
  'layout.language': '言語',
  'layout.pageTitle': '{page} - {site}',

  'error.localeUnknown.title': 'この言語は利用できません',
  'error.localeUnknown.message': 'このヘルプセンターはその言語では提供されていません。',

  'home.title': 'ヘルプセンター',
  'home.welcome': '{site} へようこそ',
  'home.announcement': 'お知らせ',
  'home.searchLabel': 'ヘルプセンターを検索',
  'home.searchPrompt': 'どのようなご用件でしょうか？',
  'home.search': '検索',
  'home.kbNoResults': '検索に一致する記事はありません。',
  'home.desks': 'サービスデスク',
  'home.noDesks': '利用できるサービスデスクはありません。',
  'home.raiseRequest': 'リクエストを作成',
  'home.signInPrompt': 'リクエストの作成や確認には<link>サインイン</link>してください。',
  'home.kbHint': '検索すると {desks} のナレッジベースから回答を探せます。',
  'home.kbNone': '利用できるナレッジベースはありません。',
  'home.knowledgeBase': 'ナレッジベース',
  'home.requestTypesNoResults': '検索に一致するリクエストタイプはありません。',
  'home.requestTypes': 'リクエストタイプ',

  'layout.breadcrumb': 'パンくずリスト',
  'article.stillNeedHelp': 'さらにサポートが必要ですか？<link>{desk} にリクエストを作成</link>してください。',

  'desk.otherGroup': 'その他',
  'desk.searchKnowledgeBase': 'ナレッジベースを検索',
  'desk.searchAll': 'リクエストタイプと記事を検索',
  'desk.noMatches': '一致するリクエストタイプはありません。',
  'desk.groupsNav': 'リクエストタイプのグループ',
  'desk.requestTypes': 'リクエストタイプ',
  'desk.matching': '「{search}」に一致するリクエストタイプ',

  'requests.title': 'リクエスト',
  'requests.filterLabel': 'リクエストを絞り込む',
  'requests.status': 'ステータス',
  'requests.ownership': 'リクエスト',
  'requests.ownership.all': 'すべて',
  'requests.ownership.mine': '自分が作成',
  'requests.ownership.shared': '自分と共有',
  'requests.ownership.approvals': '承認（自分が承認者）',
  'requests.ownership.approvalsPending': '自分の承認待ち',
  'requests.ownership.approvalsDone': '自分の回答を待っていない承認',
  'requests.ownership.organizations': '自分の組織と共有',
  'requests.status.open': '未解決のリクエスト',
  'requests.status.closed': '完了したリクエスト',
  'requests.status.all': 'すべてのリクエスト',
  'requests.statusCategory.new': '未着手',
  'requests.statusCategory.indeterminate': '進行中',
  'requests.statusCategory.done': '完了',
  'requests.search': '検索',
  'requests.filter': '絞り込む',
  'requests.empty': 'リクエストが見つかりません。',
  'requests.noMore': 'これ以上のリクエストはありません。',
  'requests.notice.left': 'このリクエストの参加者ではなくなりました。',
  'requests.column.reference': '参照番号',
  'requests.column.summary': '概要',
  'requests.column.status': 'ステータス',
  'requests.column.requester': 'リクエスト者',
  'requests.column.created': '作成日時',
  'requests.pages': 'ページ',
  'requests.nextPage': '次のページ',
  'requests.firstPage': '最初のページ',
  'requests.desk': 'サービスデスク',
  'requests.requestType': 'リクエストタイプ',
  'requests.any': 'すべて',
  'requests.sortBy': '並べ替え',
  'requests.sort.createdDesc': '新しい順',
  'requests.sort.createdAsc': '古い順',
  'requests.sort.updatedDesc': '最近更新された順',
  'requests.sort.updatedAsc': '更新が古い順',
  'requests.column.desk': 'サービスデスク',
  'requests.column.requestType': 'リクエストタイプ',
  'requests.range': 'リクエスト {first}–{last}',
  'requests.rangeOf': 'リクエスト {first}–{last} / {total} 件',
  'requests.rangeOfAbout': 'リクエスト {first}–{last} / 約 {total} 件',
  'requests.previous': '前へ',

  'create.suggestedArticles': '役に立つかもしれない記事',
  'create.suggestedArticlesHelp': '記事は新しいタブで開きます。フォームはこのまま残ります。',
  'create.hint.text': '1 行、255 文字まで。',
  'create.hint.paragraph': '詳しくご記入ください。改行はそのまま保持されます。',
  'create.hint.chooseOne': '1 つ選択してください。',
  'create.hint.chooseAll': '当てはまるものをすべて選択してください。',
  'create.hint.cascadingSelect': '1 つ選択してください。より詳細な選択肢がある場合はそちらを選んでください。',
  'create.hint.date': '日付。例：2030-01-31。',
  'create.hint.dateTime': '日付と時刻（{zone}）。',
  'create.hint.number': '数値。例：42、3.5。',
  'create.hint.url': 'https:// で始まるウェブアドレス。',
  'create.hint.labels': 'スペース区切りの単語。例：出張 vpn。',
  'create.hint.attachment': '最大 {max} ファイル。使用できる形式：{types}。',
  'create.select': '選択...',
  'create.labelsExample': 'ラベル1 ラベル2',
  'create.filledByDesk': '{field}：この項目はヘルプデスクが入力します。',
  'create.audience': 'このリクエストの対象者',
  'create.onBehalf': '代理でリクエストを作成する相手',
  'colleagues.notEveryoneListed':
    '組織のメンバー全員は表示されていません。ヘルプセンターが読み込める数を超えるメンバーがいる組織があります。',
  'create.onBehalfHelp': '所属組織のメンバー。あなたもこのリクエストをフォローします。',
  'create.myself': '自分',
  'create.shareWith': '共有先',
  'create.shareHelp': '共有された人はリクエストを表示し、更新をフォローできます。',
  'create.everyoneIn': '{organization} の全員',
  'create.myRequests': 'マイリクエスト',
  'create.send': '送信',
  'create.cancel': 'キャンセル',

  'error.deskNotFound': 'そのサービスデスクは見つかりませんでした。',
  'error.articleNotFound': 'その記事は見つかりませんでした。',
  'error.requestTypeNotFound': 'そのリクエストタイプは見つかりませんでした。',
  'error.noIcon': 'このリクエストタイプにはアイコンがありません。',
  'create.needsAttention': 'いくつかの項目を確認してください。',
  'create.noAttachments': 'このリクエストタイプには添付ファイルを追加できません。',
  'create.problem.required': '{field} は必須です。',
  'create.problem.tooLong': '{field} は {max, number} 文字以内で入力してください。',
  'create.problem.choiceInvalid': '{field} には有効な値を選択してください。',
  'create.problem.choicesInvalid': '{field} には有効な値のみを選択してください。',
  'create.problem.dateInvalid': '{field} には日付を入力してください（例：2030-01-31）。',
  'create.problem.dateTimeInvalid': '{field} には日付と時刻を入力してください。',
  'create.problem.numberInvalid': '{field} には数値を入力してください。',
  'create.problem.urlInvalid':
    '{field} には https:// または http:// で始まるウェブアドレスを入力してください。',
  'create.problem.labelTooLong': '{field} の各ラベルは {max, number} 文字以内で入力してください。',
  'create.problem.unsupported': '{field} はここでは入力できません。ヘルプデスクにお問い合わせください。',
  'create.problem.refusedByDesk': 'ヘルプデスクがこの値を受け付けませんでした：{detail}',
  'create.problem.requestRefusedByDesk': 'ヘルプデスクがリクエストを受け付けませんでした：{detail}',
  'create.problem.notAColleague':
    '代理でリクエストを作成できるのは、このサービスデスクに追加されているあなたの組織のメンバーだけです。',
  'create.problem.shareOutside':
    'リクエストを共有できるのは、このサービスデスクに追加されているあなたの組織とそのメンバーだけです。',
  'create.notCreated':
    'リクエストは作成されませんでした。入力内容は下に残してあります。準備ができたらフォームを再送信してください（リクエストが二重に作成されることはありません）。または「マイリクエスト」を確認してください。',
  'create.outcomeUnknown':
    'リクエストが作成されたかどうかを確認できませんでした。再送信する前に「マイリクエスト」を確認してください。',
  'create.outcomeUnknownHeld':
    'リクエストが作成されたかどうかを確認できませんでした。まだ送信中の可能性があります。まず「マイリクエスト」を確認してください（作成直後のリクエストは表示まで数分かかることがあります）。回答は下に残してあり、{seconds} 秒後にこのフォームを再送信できます（それまでに前回のリクエストが届いていない場合にのみ作成されます。前回の分がさらに後から届いた場合は、両方が作成されます）。',
  'create.stillChecked':
    '前回のクリックで送信したリクエストが作成されたかどうかをまだ確認中です。まだ送信中の可能性があるため、今回は何も送信していません。少し待ってから「マイリクエスト」を確認してください。回答は下に残してあり、{seconds} 秒後にこのフォームを再送信できます（それまでに前回のリクエストが届いていない場合にのみ作成されます。前回の分がさらに後から届いた場合は、両方が作成されます）。',
  'create.inProgress':
    'リクエストは前回のクリックでまだ送信中です。遅くとも {seconds} 秒後には結果が確定します。その後で「マイリクエスト」を確認してください。回答は下に残してあり、このフォームを再送信すると、それまでに前回のリクエストが届いていない場合にのみ作成されます（前回の分がさらに後から届いた場合は、両方が作成されます）。',
  'create.outcomeUnknownNewForm':
    'リクエストが作成されたかどうかを確認できませんでした。このフォームからは判断できません。まず「マイリクエスト」を確認してください（作成直後のリクエストは表示まで数分かかることがあります）。このフォームを再送信すると、新しいリクエストが作成されます。',
  'create.writeKeyForeign':
    'このフォームは、あなたがフォローしていないリクエストのために既に送信されているため、今回は何も送信されていません。回答は下の新しいフォームに残っています。送信すると新しいリクエストが作成されます。',

  'request.notice.created': 'リクエストを送信しました。',
  'request.notice.unshared':
    'リクエストを送信しましたが、組織と共有できませんでした。ヘルプデスクに共有を依頼するか、下で個別のユーザーと共有してください。',
  'request.notice.commented': 'コメントを追加しました。',
  'request.notice.uploaded': 'ファイルを添付しました。',
  'request.notice.shared': '共有設定を更新しました。',
  'request.notice.moved': 'リクエストを更新しました。',
  'request.refused.notAvailable': '利用できません',
  'request.refused.approverOnly':
    'このリクエストの承認者として、閲覧とコメントができます（回答は Atlassian からのメールで行います）。リクエストの変更はリクエストの所有者が行います。',
  'request.refused.commentEmpty': '先にコメントを入力してください。',
  'request.refused.commentNotAdded':
    'コメントは追加されませんでした。下に残してあります。準備ができたら再送信してください（二重に追加されることはありません）。',
  'request.leftUnconfirmed.title': '確認できません',
  'request.leftUnconfirmed':
    'このリクエストから外れたかどうかを確認できませんでした。外れた場合、このリクエストは表示されなくなっている可能性があります。表示できるリクエストはすべてマイリクエストに一覧されています。',
  'request.unreadable.title': 'このリクエストは現在表示できません',
  'request.unreadable':
    'Atlassian からリクエストを読み直すことができませんでした。送信した内容は下に残してあります。リクエストが再び表示されたら確認し、まだ必要であればこのフォームを送信してください（それまでに前回の分が届いていない場合にのみ反映されます。前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.unreadable.share':
    'Atlassian からリクエストを読み直すことができませんでした。選択した内容は下に残してあります。リクエストが再び表示されたら確認し、まだ必要であれば送信してください（何度送信しても、リクエストが変更されるのは一度だけです）。',
  'request.unreadable.send': 'もう一度送信',
  'request.unreadable.open': 'リクエストを開く',
  'request.refused.commentInProgress':
    'コメントは前回のクリックでまだ送信中です。遅くとも {seconds} 秒後には結果が確定します。その後でリクエストのコメントをもう一度確認してください。コメントは下に残してあり、再送信すると、それまでに前回の分が届いていない場合にのみ追加されます（前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.namedFileUndecided':
    '何も送信されていません。このリクエストのファイルを現在確認できません。数分後にもう一度送信してください。入力したテキストは下に残っています。',
  'request.refused.commentUnconfirmed':
    'コメントが追加されたかどうかを確認できませんでした。まずリクエストのコメントを確認してください。コメントは下に残してあり、再送信すると、それまでに前回の分が届いていない場合にのみ追加されます（前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.commentUnconfirmedHeld':
    'コメントが追加されたかどうかを確認できませんでした。まだ送信中の可能性があります。まずリクエストのコメントを確認してください。コメントは下に残してあり、{seconds} 秒後に再送信できます（それまでに前回の分が届いていない場合にのみ追加されます。前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.commentStillChecked':
    '前回のクリックで送信したコメントが追加されたかどうかをまだ確認中です。まだ送信中の可能性があるため、今回は何も送信していません。少し待ってからリクエストのコメントを確認してください。コメントは下に残してあり、{seconds} 秒後に再送信できます（それまでに前回の分が届いていない場合にのみ追加されます。前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.stepUnavailable': 'その操作は利用できません。',
  'request.refused.stepInProgress':
    'この操作は前回のクリックでまだ送信中です。遅くとも {seconds} 秒後には結果が確定します。その後、もう一度操作する前にリクエストのステータスを確認してください。',
  'request.refused.stepCommentInProgress':
    'この操作は前回のクリックでまだ送信中です。遅くとも {seconds} 秒後には結果が確定します。その後でリクエストのステータスをもう一度確認してください。コメントは下に残してあり、このフォームを再送信すると、それまでに前回の分が届いていない場合にのみ操作とコメントが行われます（前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.stepNotSent': 'リクエストは更新されませんでした。この操作はもう一度送信できます。',
  'request.refused.shareNotSent': '共有設定は変更されませんでした。もう一度送信できます。',
  'request.refused.shareUnconfirmed':
    '共有設定が変更されたかどうかを確認できませんでした。まずリクエストの共有先を確認してください。再送信しても変更は一度だけです。',
  'request.refused.stepUnconfirmed':
    'リクエストが更新されたかどうかを確認できませんでした。この操作を再送信する前に、下のステータスを確認してください。',
  'request.refused.stepUnconfirmedHeld':
    'リクエストが更新されたかどうかを確認できませんでした。操作はまだ送信中の可能性があります。この操作をもう一度行う前に、下のステータスを確認してください。コメントは下に残してあり、{seconds} 秒後に再送信できます（それまでに前回の分が届いていない場合にのみ追加されます。前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.stepStillChecked':
    '前回のクリックでリクエストが更新されたかどうかをまだ確認中です。操作はまだ送信中の可能性があるため、今回は何も送信していません。少し待ってから下のステータスを確認してください。コメントは下に残してあり、{seconds} 秒後に再送信できます（それまでに前回の分が届いていない場合にのみ追加されます。前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.stepUnavailableHere': 'このリクエストではその操作は利用できません。',
  'request.refused.commentTooLong': 'コメントが長すぎます。',
  'request.refused.shareOrganizationsOnly':
    'リクエストを共有できるのは、そのサービスデスクに追加されているあなたの組織のメンバーだけです。',
  'request.refused.notParticipant': 'そのユーザーはこのリクエストの参加者ではありません。',
  'request.refused.shareOwnOrganizationsOnly': 'リクエストを共有できるのは、あなたが所属する組織だけです。',
  'request.refused.shareDeskOrganizationsOnly':
    'リクエストを共有できるのは、そのサービスデスクに追加されているあなたの組織だけです。',
  'request.refused.organizationSharingUnavailable':
    'このヘルプセンターでは、リクエストを組織と共有できません。',
  'request.refused.unshareReporterOnly': '組織との共有をやめられるのは、このリクエストを作成した人だけです。',
  'request.refused.notSharedWithOrganization': 'このリクエストはその組織と共有されていません。',
  'request.refused.noFile': '添付するファイルを選択してください。',
  'error.uploadRefused.title': 'アップロードが拒否されました',
  'request.refused.fileNotAttached':
    'ファイルは添付されませんでした。もう一度ファイルを選択してアップロードしてください。',
  'request.refused.fileInProgress':
    'ファイルは前回のクリックでまだ送信中です。遅くとも {seconds} 秒後には結果が確定します。その後でリクエストのファイルをもう一度確認してください。再送信するには下でファイルを選択してアップロードしてください。それまでに前回の分が届いていない場合にのみ添付されます（前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.fileUnconfirmed':
    'ファイルが添付されたかどうかを確認できませんでした。まずリクエストのファイルを確認してください。再送信するには下でファイルを選択してアップロードしてください。それまでに前回の分が届いていない場合にのみ添付されます（前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.fileUnconfirmedHeld':
    'ファイルが添付されたかどうかを確認できませんでした。まだ送信中の可能性があります。まずリクエストのファイルを確認してください。{seconds} 秒後に再送信できます。下でファイルを選択してアップロードしてください（それまでに前回の分が届いていない場合にのみ添付されます。前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'request.refused.fileStillChecked':
    '前回のクリックで送信したファイルが添付されたかどうかをまだ確認中です。まだ送信中の可能性があるため、今回は何も送信していません。少し待ってからリクエストのファイルを確認してください。{seconds} 秒後に再送信できます。下でファイルを選択してアップロードしてください（それまでに前回の分が届いていない場合にのみ添付されます。前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'upload.acceptedTypes': '使用できる形式：{types}。',
  'upload.chooseAgain': '何も送信されていません。ファイルをもう一度選択してください。',
  'refusal.uploadContent': 'このファイルの内容は名前が示す形式ではありません（{filename}）。',
  'refusal.uploadEmpty': 'このファイルは空です（{filename}）。',
  'refusal.uploadType': 'この形式のファイルは添付できません（{filename}）。',
  'refusal.uploadTooLarge': '{filename} は {size}（ファイルサイズの上限）を超えています。',
  'refusal.uploadTooMany': '一度に添付できるファイルは {max} 個までです。',
  'refusal.formUnreadable': 'フォームを読み取れませんでした。',
  'refusal.formTooLarge':
    '送信されたフォームが大きすぎます。何も送信されていません。テキストは {max, number} 文字以内、ファイルは {size} 以内にしてください。ブラウザーの「戻る」ボタンでフォームに戻り（ほとんどのブラウザーでは入力した内容が残っています）、テキストを短くするか小さいファイルを選んでから、もう一度送信してください。',
  'refusal.bodyTooLarge':
    '送信されたフォームが大きすぎます。何も送信されていません。テキストは {max, number} 文字以内にしてください。ブラウザーの「戻る」ボタンでフォームに戻り（ほとんどのブラウザーでは入力した内容が残っています）、テキストを短くしてから、もう一度送信してください。',
  'refusal.formTooManyFields': '送信されたフォームの項目が多すぎます。',
  'refusal.formEncoding': 'フォームのエンコードには対応していません。',
  'refusal.pageLinkExpired': 'このページのリンクは無効になりました。最初のページからやり直してください。',
  'refusal.actionInvalid': 'このリクエストではその操作を行えません。',
  'refusal.accessDenied':
    'お使いのアカウントは、このヘルプセンターを利用できるグループに所属していません。管理者にアクセス権を依頼してください。',
  'refusal.accountService':
    'これはヘルプセンター自体のサービスアカウントのため、ここではサインインできません。ご自身のカスタマーアカウントでサインインしてください。',
  'refusal.accountLicensed':
    'エージェントや管理者のアカウントでは、このヘルプセンターにサインインできません。カスタマーアカウントでサインインしてください。',
  'refusal.accountType':
    'アプリやシステムのアカウントでは、このヘルプセンターにサインインできません。カスタマーアカウントでサインインしてください。',
  'refusal.accountInactive':
    'お客様のアカウントは、このヘルプセンターを利用できなくなりました。誤りと思われる場合は、ヘルプデスクにお問い合わせください。',
  'refusal.accountUnchecked': 'アカウントを確認できませんでした。しばらくしてからもう一度お試しください。',
  'refusal.customerNotSearchable.title': 'まもなく準備が整います',
  'refusal.customerNotSearchable':
    'アカウントは作成されましたが、ヘルプセンターがまだ見つけられません。しばらくしてからもう一度サインインしてください。',
  'refusal.customerUnknown':
    'このヘルプセンターにはまだお客様のアカウントが登録されていません。ヘルプデスクにカスタマーとしての追加を依頼してください。',
  'refusal.emailMissing':
    '組織のサインインからメールアドレスが提供されなかったため、アカウントが見つかりません。管理者にお知らせください。',
  'refusal.idpUnknown':
    'どのサインイン方法が使われたかがサインイン情報に含まれていませんでした。ヘルプセンターからもう一度サインインしてください。',
  'refusal.atlassianNotFound': '見つかりませんでした。',
  'refusal.atlassianConflict': 'すでに存在します。',
  'refusal.atlassianForbidden': 'ヘルプセンターではこの操作は許可されていません。',
  'refusal.atlassianBusy': 'ヘルプセンターは現在混み合っています。1 分ほどしてからもう一度お試しください。',
  'refusal.atlassianBusyShortly': 'ヘルプセンターは現在混み合っています。数秒後にもう一度お試しください。',
  'refusal.atlassianUnavailable':
    'ヘルプセンターは一時的に利用できません。1 分ほどしてからもう一度お試しください。',
  'refusal.atlassianTimeout': 'ヘルプセンターの応答に時間がかかりすぎました。もう一度お試しください。',
  'refusal.atlassianUnreachable':
    '現在ヘルプセンターに接続できません。1 分ほどしてからもう一度お試しください。',
  'refusal.atlassianMisconfigured': 'ヘルプセンターが正しく設定されていません。管理者にお知らせください。',
  'refusal.atlassianListTooLong':
    'このリクエストまたはお客様のアカウントには、ヘルプセンターが確認できる数を超える参加者、承認、ステップ、または組織があります。サービスデスクチームにお問い合わせください。',
  'refusal.atlassianError': 'ヘルプセンターとの通信中に問題が発生しました。もう一度お試しください。',

  'activity.accountNotFound': 'そのアカウントは見つかりません。',
  'signIn.expired.title': 'サインインの期限切れ',
  'signIn.expired':
    'サインインに時間がかかりすぎたか、ここで開始されていません。もう一度サインインしてください。',
  'signIn.endedAtIdp':
    'サインイン中に、組織のサインインがあなたのセッションを終了しました。もう一度サインインしてください。',
  'signIn.failed.title': 'サインインに失敗しました',
  'signIn.failed': 'サインインを検証できませんでした。もう一度お試しください。',
  'signIn.refused.title': 'アクセスが拒否されました',
  'signOut.done': 'サインアウトしました。',
  'signOut.partial':
    'ヘルプセンターからサインアウトしましたが、組織のサインインはまだ有効な可能性があります。終了するにはブラウザーを閉じてください。',
  'signOut.failed.title': 'サインアウトに失敗しました',
  'signOut.failed': 'サインアウトのメッセージを検証できませんでした。',
  'error.atlassianBusy.title': 'ヘルプセンターが混み合っています',
  'error.atlassianBusy': 'ただいまヘルプセンターが混み合っています。{seconds} 秒後にもう一度お試しください。',
  'error.uploadsBusy.title': 'もう一度お試しください',
  'error.uploadsBusy':
    '現在多くのファイルがアップロードされています。{seconds} 秒後にもう一度お試しください。',

  'transition.title': '{transition}：{key}',
  'transition.question': '「{transition}」を実行しますか？',
  'transition.explain':
    '<strong>{key}</strong> {summary} は「{transition}」で更新されます。ヘルプデスクにこの変更が表示されます。',
  'transition.comment': 'コメントを追加（任意）',
  'transition.keep': 'リクエストを変更しない',

  'request.raisedBy': '{name} が作成',
  'request.details': '詳細',
  'request.noDetails': '詳細は入力されていません。',
  'request.activity': 'アクティビティ',
  'request.noComments': 'まだコメントはありません。下から追加すると、ヘルプデスクに表示されます。',
  'request.addComment': 'コメントを追加',
  'request.comment': 'コメント',
  'request.attachToComment': 'ファイルを添付（任意、最大 {max} 件、各 {size} まで）',
  'request.attachments': '添付ファイル',
  'request.noFiles': '添付ファイルはありません。',
  'request.filesUnlisted':
    'このリクエストの一部のファイルは現在一覧表示できません。数分後にもう一度お試しください。',
  'refusal.fileVisibilityUnknown':
    'このファイルを開けるかどうかを現在確認できません。数分後にもう一度お試しください。',
  'request.attachFile': 'ファイルを添付（{size} まで）',
  'request.upload': 'アップロード',
  'request.statusAside': 'リクエストのステータス',
  'request.status': 'ステータス',
  'request.notifications': '通知',
  'request.notificationsExplain':
    'このリクエストについて Atlassian からメールが届きます。停止するには、そのメールの配信停止リンクを使用してください。このヘルプセンターは共有サービスアカウントで動作しているため、ここには切り替えがありません。切り替えるとそのアカウントの通知が変わり、あなたの通知は変わりません。',
  'request.sharedWith': '共有先',
  'request.notShared': 'まだ誰とも共有されていません。',
  'request.removeParticipant': '{name} を削除',
  'request.remove': '削除',
  'request.shareWithLabel': '組織内のユーザーと共有',
  'request.nobodyToShareWith': '組織内に追加できるユーザーはいません。',
  'request.share': '共有',
  'request.shareWithOrganizationLabel': 'あなたの組織と共有',
  'request.stopSharing': '共有をやめる',
  'request.stopSharingWith': '{organization} との共有をやめる',
  'request.otherOrganizations': 'ほかに {count} 件の組織とも共有されています。',
  'request.timeline.raised': '<strong>{author}</strong> がこのリクエストを作成しました {when}',
  'request.timeline.files': '<strong>{author}</strong> が {count} 件のファイルを添付しました {when}',
  'request.timeline.earlierCommentsUnread':
    'これより古いコメントは表示されません。このリクエストには、ヘルプセンターが読み込める数を超えるコメントがあります。',
  'request.timeline.olderStatusesUnread':
    'これより古いステータス変更は表示されません。このリクエストには、ヘルプセンターが読み込める数を超える変更があります。',
  'request.timeline.status': 'ステータスが {status} に変更されました {when}',
  'request.decision.approved': '承認済み',
  'request.decision.declined': '却下',
  'activity.title': 'アクティビティ',
  'activity.heading': '顧客のアクティビティ',
  'activity.intro':
    '最近のサインイン（最大 500 件、30 日間保持）。ポータルが保持するのは Atlassian アカウント ID、クライアント IP、サインイン時刻のみです。名前はこのページを表示するたびに Atlassian に問い合わせ、保持しません。',
  'activity.revoked': '{name} のポータルセッションをすべて終了しました。再度サインインが必要です。',
  'activity.namesUnavailable': '現在 Atlassian から名前を取得できません。アカウント ID で表示しています。',
  'activity.filter': 'アクティビティを絞り込む',
  'activity.query': '名前、メール、アカウント ID、IP',
  'activity.period': 'サインイン',
  'activity.period.all': '過去 30 日間',
  'activity.period.day': '過去 24 時間',
  'activity.period.week': '過去 7 日間',
  'activity.filterButton': '絞り込む',
  'activity.count': '{count, plural, other {# 人}}',
  'activity.empty': '一致するサインインはありません。',
  'activity.caption': 'サインイン（新しい順）',
  'activity.name': '名前',
  'activity.accountId': 'アカウント ID',
  'activity.lastSignIn': '最終サインイン',
  'activity.clientIp': 'クライアント IP',
  'activity.sessions': 'セッション',
  'activity.unknownName': '不明',
  'activity.endSessions': 'セッションを終了',
  'activity.endSessionsOf': '{name} のセッションを終了',
  'activity.previousPage': '前のページ',
  'activity.pageOf': '{page} / {count} ページ',

  'error.requestRefused.title': 'リクエストが拒否されました',
  'error.formExpired':
    'このフォームは期限切れです。前のページに戻り、再読み込みしてからもう一度お試しください。',
  'error.signedOut.title': 'サインアウトしました',
  'error.sessionEnded':
    'フォームの送信前にセッションが終了したため、何も保存されていません。もう一度サインインすると、入力した内容が残ったフォームに戻ります。',
  'error.notFound.title': '見つかりません',
  'error.notFound.page': 'そのページは見つかりませんでした。',
  'error.slowDown.title': 'しばらくお待ちください',
  'error.slowDown': 'この操作の回数が多すぎます。{seconds} 秒待ってからもう一度お試しください。',
  'error.writeUncertain':
    '送信されていません。ヘルプセンターの保存領域の一部が再起動したため、このフォームが前回のクリックで送信中でないことをまだ確認できません。マイリクエストを確認してから、{seconds} 秒後にもう一度送信してください（それまでに前回の分が届いていない場合にのみ送信されます。前回の分がさらに後から届いた場合は、両方が表示されます）。',
  'error.writeInProgress':
    'このフォームは前回のクリックでまだ送信中です。もう一度送信する前に、少し待ってからマイリクエストを確認してください。',
  'error.failed.title': '問題が発生しました',
  'error.tryLater': 'しばらくしてからもう一度お試しください。',
  'error.storeFull':
    'ヘルプセンターは現在これを受け付ける余裕がありません。以前のアクセスが終わるにつれて空きができます。1 分ほどしてからもう一度お試しください。',
  'error.storeRefused':
    'サービス側の問題のため、ヘルプセンターを利用できません。この問題はサービスの運用担当者による対応が必要で、対応されるまでは再試行しても解決しません。問題が続く場合は、報告の際に下記の参照番号をお伝えください。',
  'error.requestMoved':
    'このリクエストは移動され、新しい番号になりました。「マイリクエスト」から開いてください。',
  'error.requestNotFound': 'そのリクエストは見つかりませんでした。',

  'approvals.title': '承認',
  'approvals.requested':
    '<strong>承認が求められています。</strong>このリクエストについて Atlassian からメールが届いています。そのメールの<em>承認</em>または<em>却下</em>ボタンで回答してください。',
  'approvals.whyNotHere':
    'このヘルプセンターではあなたの回答を記録できません。Jira Service Management は承認者本人の Atlassian アカウントからの承認のみを受け付け、ヘルプセンターは共有サービスアカウントで動作しているためです。メールが見つからない場合は、下のコメントでお知らせください。ヘルプデスクが対応します。',
  'approvals.approval': '承認',
  'approvals.outcome.pending': '承認待ち',
  'approvals.answer.pending': '未回答',
  'approvals.approver': '{name}{you, select, yes {（あなた）} other {}}：{answer}',

  'profile.title': 'プロフィール',
  'profile.name': '名前',
  'profile.organizations': '組織',
  'profile.none': 'なし',
  'profile.managed': '名前とメールアドレスは組織のサインインで管理されています。',
  'profile.signOut': 'サインアウト',

  'message.signIn': 'サインイン',
  'message.backHome': 'ヘルプセンターに戻る',
  'message.reference': '参照コード：',
  'signingOut.title': 'サインアウト中',
  'signingOut.message':
    'ヘルプセンターからサインアウトしました。組織のサインインからもサインアウトするには<link>続行</link>してください。',

  'broker.backTo': '{site} に戻る',
  'broker.continue': '続行',
  'broker.choose.title': 'サインイン',
  'broker.choose.heading': '{site} にサインイン',
  'broker.choose.email': '勤務先のメールアドレス',
  'broker.choose.or': 'またはサインイン先を選択してください：',
  'broker.choose.noMethodForDomain':
    'このメールドメインにはサインイン方法が設定されていません。下から選択してください。',
  'broker.choose.methodNotOffered':
    'このメールドメインのサインイン方法は、今回のサインインには使用できません。下から選択してください。',
  'broker.post.title': 'サインインしています',
  'broker.post.noScript': 'お使いのブラウザーではスクリプトが実行されません。「続行」を押してください。',
  'broker.signedOut.title': 'サインアウトしました',
  'broker.signedOut.message':
    '組織のサインインは終了しました。ヘルプセンターにはまだサインインしたままの可能性があります。ヘルプセンターでもサインアウトしてください。',
  'broker.refused.title': 'サインインが拒否されました',
  'broker.refused.signOutTitle': 'サインアウトを完了できませんでした',
  'broker.refused.expired':
    'このサインインは期限切れか、すでに完了しています。ヘルプセンターからやり直してください。',
  'broker.refused.otherBrowser':
    'このサインインは別のブラウザーで開始されました。このブラウザーでヘルプセンターからやり直してください。',
  'broker.refused.form':
    'このフォームはサインインページから送信されたものではありません。ヘルプセンターからやり直してください。',
  'broker.refused.unknownMethod': 'そのサインイン方法はありません。',
  'broker.refused.notAccepted':
    '組織のサインインで、このヘルプセンターが受け付けるメールアドレスが確認されませんでした。',
  'broker.refused.identity':
    '組織のサインインから、このヘルプセンターで使用できない ID が送信されました。管理者にお問い合わせください。',
  'broker.refused.idpAnswer':
    '組織のサインインからの応答を検証できませんでした。ヘルプセンターからやり直してください。',
  'broker.refused.message':
    'サインインのメッセージがセキュリティチェックに合格しませんでした。ヘルプセンターからやり直してください。',
  'broker.refused.signOutExpired': 'このサインアウトは期限切れか、すでに完了しています。',
  'broker.refused.notFound': 'ここには何もありません。',
  'broker.refused.idpSessionEnded':
    'サインイン中に、組織のサインインがあなたのセッションを終了しました。ヘルプセンターからやり直してください。',
  'broker.refused.other': 'サインインを完了できませんでした。ヘルプセンターからやり直してください。',
  'broker.unavailable.title': 'サインインは一時的に利用できません',
  'broker.unavailable.message': 'しばらくしてからもう一度お試しください。',
  'broker.storeFull.title': 'サインインが混み合っています',
  'broker.storeFull.message':
    '現在、新しいサインインを受け付ける余裕がありません。以前のサインインが終わるにつれて空きができます。1 分ほどしてからもう一度お試しください。',
  'broker.storeRefused.title': 'サインインを利用できません',
  'broker.storeRefused.message':
    'サービス側の問題のため、サインインを利用できません。この問題はサービスの運用担当者による対応が必要で、対応されるまでは再試行しても解決しません。問題が続く場合は、報告の際に下記の参照番号をお伝えください。',
};
