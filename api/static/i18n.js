/* The page's language: Simplified Chinese unless the server's MEDFRAUD_LANG or the user says otherwise.
 *
 * Texts come from /ui/messages.json (the same catalogue the server uses for the dossier). The
 * user's choice is kept in localStorage and sent with every GraphQL request as Accept-Language,
 * so evidence sentences written by the server come back in the same language.
 */
'use strict';

(function () {
  const LANG_KEY = 'medfraud.lang';
  const state = { lang: 'zh', messages: { zh: {}, en: {} }, languages: ['zh', 'en'] };

  function format(text, values) {
    if (!values) return text;
    return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
  }

  function t(key, values) {
    const table = state.messages[state.lang] || {};
    const text = table[key];
    return text === undefined ? key : format(text, values);
  }

  // A term from the catalogue if it has one (kinds, statuses, labels), else the raw value.
  function term(prefix, value) {
    if (value === null || value === undefined || value === '') return '';
    const key = `${prefix}.${value}`;
    const text = t(key);
    return text === key ? String(value) : text;
  }

  function apply(root) {
    const scope = root || document;
    for (const node of scope.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const node of scope.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
    for (const node of scope.querySelectorAll('[data-i18n-title]')) node.title = t(node.dataset.i18nTitle);
    for (const node of scope.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('app.title');
  }

  async function load() {
    const resp = await fetch('/ui/messages.json', { headers: { Accept: 'application/json' } });
    const body = await resp.json();
    state.messages = body.messages;
    state.languages = body.languages;
    const chosen = localStorage.getItem(LANG_KEY);
    state.lang = state.languages.includes(chosen) ? chosen : body.default;
    return state.lang;
  }

  function setLang(lang) {
    if (!state.languages.includes(lang)) return;
    state.lang = lang;
    localStorage.setItem(LANG_KEY, lang);
    apply();
  }

  function acceptLanguage() { return state.lang === 'zh' ? 'zh-CN' : 'en'; }

  window.MedfraudI18n = { t, term, apply, load, setLang, acceptLanguage, get lang() { return state.lang; } };
})();
