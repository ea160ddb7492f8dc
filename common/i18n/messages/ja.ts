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
  'home.searchLabel': 'ナレッジベースを検索',
  'home.searchPrompt': 'どのようなご用件でしょうか?',
  'home.search': '検索',
  'home.kbResults': 'ナレッジベースの検索結果',
  'home.kbNoResults': '検索に一致する記事はありません。',
  'home.desks': 'サービスデスク',
  'home.noDesks': '利用できるサービスデスクはありません。',
  'home.raiseRequest': 'リクエストを作成',

  'layout.breadcrumb': 'パンくずリスト',
  'article.stillNeedHelp': 'さらにサポートが必要ですか? <link>{desk} にリクエストを作成</link>してください。',

  'desk.findRequestType': 'リクエストタイプを検索',
  'desk.otherGroup': 'その他',
  'desk.noMatches': '一致するリクエストタイプはありません。',
  'desk.groupsNav': 'リクエストタイプのグループ',
  'desk.requestTypes': 'リクエストタイプ',
  'desk.matching': '「{search}」に一致するリクエストタイプ',
};
