/* The investigator's page: token, language, search, rings, the network, evidence and node details.
 *
 * Everything comes from POST /graphql with the user's bearer token, so the page shows exactly
 * what the server lets this role see (masking happens server-side; the page never unmasks).
 * The token lives in sessionStorage only: it is gone when the tab closes. A link may carry
 * `#token=…&ring=…` (or `&node=Label:key`, `&q=text`, `&case=id`); the page takes the token, then
 * removes it from the address bar so it does not linger in history or get copied with the URL.
 * Cases (list, case page, actions) live in cases.js; the timeline in timeline.js.
 */
'use strict';

(function () {
  const TOKEN_KEY = 'medfraud.token';
  const I18N = window.MedfraudI18n;
  const t = I18N.t;
  const term = I18N.term;
  const NODE_FIELDS = 'id label key title props ringIds riskScore cutCount';
  const SUBGRAPH_FIELDS = `nodes { ${NODE_FIELDS} } edges { id type source target date } truncated`;
  const RING_QUERY = `query Ring($id: ID!) {
    ring(id: $id) {
      ringId kind score status memberCount evidence usualDailyVisits
      members { type id title role }
      scoreHistory { runId score memberCount }
      review { verdict reason reviewedBy reviewedAt }
      subgraph(hops: 1, maxNodes: 300) { ${SUBGRAPH_FIELDS} }
    }
  }`;
  const RINGS_QUERY = `query Rings($first: Int, $minScore: Float) {
    rings(first: $first, minScore: $minScore) {
      totalCount
      edges { node { ringId kind score status memberCount } }
    }
  }`;
  const SEARCH_QUERY = `query Search($text: String!) {
    search(text: $text, first: 20) { id label key title }
  }`;
  const SUBGRAPH_QUERY = `query Expand($seeds: [NodeRef!]!, $hops: Int, $maxNodes: Int) {
    subgraph(seeds: $seeds, hops: $hops, maxNodes: $maxNodes) { ${SUBGRAPH_FIELDS} }
  }`;
  const REVIEW_MUTATION = `mutation Review($ringId: String!, $verdict: RingVerdict!, $reason: String!) {
    reviewRing(ringId: $ringId, verdict: $verdict, reason: $reason) { ringId review { verdict reason reviewedBy reviewedAt } }
  }`;

  const $ = (sel) => document.querySelector(sel);
  const M = { t, term, $ }; // shared with cases.js
  let view = null;
  let busy = 0;
  let lastRing = null; // the ring drawn, for re-rendering after a language switch

  class UiError extends Error {}

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') node.textContent = v;
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function setStatus(text, kind) {
    const status = $('#status');
    status.textContent = text;
    status.className = kind || 'muted';
  }

  function setState(state) { document.body.dataset.state = state; }

  async function withBusy(message, work) {
    busy += 1;
    setState('loading');
    setStatus(message, 'muted');
    try {
      const result = await work();
      if (busy === 1) setState('ready'); // another request still running keeps the page "loading"
      return result;
    } catch (err) {
      setState('error');
      setStatus(err instanceof UiError ? err.message : t('error.unexpected', { detail: String(err) }), 'error');
      return null;
    } finally {
      busy -= 1;
    }
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function authHeaders() {
    return { Authorization: `Bearer ${token()}`, 'Accept-Language': I18N.acceptLanguage() };
  }

  async function gql(query, variables) {
    if (!token()) throw new UiError(t('error.noToken'));
    let resp;
    try {
      resp = await fetch('/graphql', {
        method: 'POST',
        headers: Object.assign({ 'Content-Type': 'application/json' }, authHeaders()),
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      throw new UiError(t('error.network', { detail: err.message }));
    }
    if (resp.status === 401) throw new UiError(t('error.refused'));
    let body;
    try {
      body = await resp.json();
    } catch (err) {
      throw new UiError(t('error.noResult', { status: resp.status }));
    }
    if (body.errors && body.errors.length) {
      const first = body.errors[0];
      const code = first.extensions && first.extensions.code;
      // the code in the reader's language, the server's own words after it for the specifics
      const label = code ? term('error', code) : '';
      throw new UiError(label && label !== code ? `${label}：${first.message} [${code}]` : first.message);
    }
    if (!resp.ok) throw new UiError(t('error.status', { status: resp.status }));
    return body.data;
  }

  // For display only: the server checks the token, the page just tells the user who they are.
  function claimsOf(bearer) {
    try {
      const part = bearer.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    } catch (err) {
      return null;
    }
  }

  function describeToken(bearer) {
    const claims = claimsOf(bearer);
    if (!claims) return t('token.set');
    const expires = claims.exp ? new Date(claims.exp * 1000).toISOString().slice(0, 16).replace('T', ' ') : '?';
    return `${claims.sub || '?'} · ${claims.role || '?'} · ${claims.agency || '?'} · ${t('token.until', { time: expires })}`;
  }

  function role() {
    const claims = token() ? claimsOf(token()) : null;
    return claims ? claims.role : null;
  }

  function refToSeed(id) {
    // Ids are "Label:key"; claim keys contain a colon themselves, so split at the first one only.
    const at = id.indexOf(':');
    return { label: id.slice(0, at), key: id.slice(at + 1) };
  }

  /* ---- token ---- */
  function applyRole() {
    const r = role();
    document.body.dataset.role = r || '';
    // police see the cases shared with their agency and nothing else: no ring list to browse
    $('#rings-section').hidden = r === 'police';
    $('#cases-section').hidden = r === 'analyst';
  }

  function useToken(value) {
    const bearer = value.trim();
    if (!bearer) return false;
    sessionStorage.setItem(TOKEN_KEY, bearer);
    $('#token').value = '';
    $('#whoami').textContent = describeToken(bearer);
    applyRole();
    return true;
  }

  function forgetToken() {
    sessionStorage.removeItem(TOKEN_KEY);
    $('#whoami').textContent = '';
    $('#ring-list').replaceChildren();
    $('#case-list').replaceChildren();
    $('#rings-total').textContent = '';
    clearPicture();
    setState('idle');
    setStatus(t('status.forgotten'), 'muted');
  }

  /* ---- rings ---- */
  async function loadRings() {
    if (role() === 'police') return;
    const minScore = parseFloat($('#min-score').value) || 0;
    const data = await withBusy(t('rings.busy'), () => gql(RINGS_QUERY, { first: 100, minScore }));
    if (!data) return;
    const rings = data.rings.edges.map((e) => e.node).sort((a, b) => b.score - a.score || a.ringId.localeCompare(b.ringId));
    $('#rings-total').textContent = t('rings.total', { total: data.rings.totalCount, min: minScore }) +
      (data.rings.totalCount > rings.length ? t('rings.topShown', { n: rings.length }) : '');
    $('#ring-list').replaceChildren(...rings.map((r) => el('li', { 'data-ring': r.ringId }, [
      el('button', {
        type: 'button',
        className: [r.ringId === M.currentRing ? 'active' : '', r.status === 'vanished' ? 'vanished' : ''].join(' ').trim(),
        onclick: () => loadRing(r.ringId),
      }, [
        el('strong', { text: r.ringId }),
        el('span', { className: 'score', text: r.score.toFixed(2) }),
        el('span', { className: 'muted' }, [
          el('span', { className: `badge ${r.kind}`, text: term('kind', r.kind) }),
          ` ${t('rings.memberCount', { n: r.memberCount })} · ${term('ringStatus', r.status)}`,
        ]),
      ]),
    ])));
    if (!M.currentRing && !M.currentCase) setStatus(rings.length ? t('rings.pick') : t('rings.none'), 'muted');
  }

  function markActive() {
    for (const li of document.querySelectorAll('#ring-list li')) {
      li.firstChild.classList.toggle('active', li.dataset.ring === M.currentRing);
    }
    for (const li of document.querySelectorAll('#case-list li')) {
      li.firstChild.classList.toggle('active', li.dataset.case === M.currentCase);
    }
  }

  function clearPicture() {
    M.currentRing = null;
    M.currentCase = null;
    lastRing = null;
    delete document.body.dataset.ring;
    delete document.body.dataset.case;
    document.body.dataset.view = 'none';
    markActive();
    view.setRing(null);
    view.clear();
    hidePanels();
    $('#timeline').replaceChildren();
    $('#timeline').dataset.days = '0';
  }

  async function loadRing(ringId) {
    const data = await withBusy(t('status.ringLoading', { id: ringId }), () => gql(RING_QUERY, { id: ringId }));
    if (!data) return;
    const ring = data.ring;
    if (!ring) {
      setState('error');
      setStatus(t('status.ringNotFound', { id: ringId }), 'error');
      return;
    }
    clearPicture();
    M.currentRing = ring.ringId;
    lastRing = ring;
    markActive();
    view.setRing(ring.ringId);
    view.merge(ring.subgraph, null);
    showRing(ring);
    document.body.dataset.view = 'ring';
    setStatus(t('status.ringDrawn', { id: ring.ringId, n: view.nodes.size,
      truncated: ring.subgraph.truncated ? t('status.truncated') : '' }), 'muted');
    document.body.dataset.ring = ring.ringId;
  }

  function ringTimeline(ring) {
    // a ring meets at one institution (or pharmacy): count visits there, where the usual traffic is known
    const places = ring.members.filter((m) => m.type === 'Institution' || m.type === 'Pharmacy');
    window.MedfraudTimeline.render($('#timeline'), view.nodes.values(), {
      mode: 'days', title: t('timeline.ring'), usual: ring.usualDailyVisits || null,
      institution: places.length === 1 ? places[0].id : null,
    });
  }

  function fact(list, termText, value) {
    list.append(el('dt', { text: termText }), el('dd', { text: value }));
  }

  function dotFor(label) {
    const dot = el('span', { className: 'dot', 'data-label': label });
    dot.style.background = window.MedfraudGraph.colourOf(label);
    return dot;
  }

  function showRing(ring) {
    $('#ring-panel').hidden = false;
    $('#case-panel').hidden = true;
    $('#ring-title').textContent = t('ring.title', { id: ring.ringId });
    const facts = $('#ring-facts');
    facts.replaceChildren();
    fact(facts, t('fact.kind'), term('kind', ring.kind));
    fact(facts, t('fact.score'), ring.score.toFixed(3));
    fact(facts, t('fact.status'), term('ringStatus', ring.status));
    fact(facts, t('fact.members'), String(ring.memberCount));
    if (ring.scoreHistory && ring.scoreHistory.length > 1) {
      fact(facts, t('fact.history'), ring.scoreHistory.map((p) => `${p.score.toFixed(2)} (${p.memberCount})`).join(' → '));
    }
    if (ring.review && ring.review.verdict) {
      fact(facts, t('fact.review'), t('fact.reviewBy', { verdict: term('verdict', ring.review.verdict),
        by: ring.review.reviewedBy || '?', reason: ring.review.reason || '' }));
      document.body.dataset.review = ring.review.verdict;
    } else {
      delete document.body.dataset.review;
    }
    $('#evidence').replaceChildren(...ring.evidence.map((line) => el('li', { text: line })));
    // only investigators (and admins) review rings and open cases; the server refuses the rest anyway
    $('#ring-actions').hidden = !['investigator', 'admin'].includes(role());
    $('#case-title').value = '';
    const order = { Institution: 0, Pharmacy: 1, Doctor: 2, Phone: 3, BankAccount: 4, Address: 5, Patient: 6 };
    const members = ring.members.slice().sort((a, b) =>
      (order[a.type] ?? 9) - (order[b.type] ?? 9) || String(a.title).localeCompare(String(b.title)));
    $('#members').replaceChildren(...members.map((m) => {
      const id = `${m.type}:${m.id}`;
      return el('li', { 'data-member': id }, [
        el('button', { type: 'button', onclick: () => focusNode(id) }, [
          dotFor(m.type),
          el('span', { text: m.title }),
          el('span', { className: 'muted', text: ` ${term('label', m.type)}${m.role ? ' · ' + term('role', m.role) : ''}` }),
        ]),
      ]);
    }));
    ringTimeline(ring);
  }

  async function reviewRing(verdict) {
    const reason = $('#review-reason').value.trim();
    if (!reason) { setStatus(t('status.needReason'), 'error'); return; }
    const ringId = M.currentRing;
    const data = await withBusy(t('status.saving'), () => gql(REVIEW_MUTATION, { ringId, verdict, reason }));
    if (!data) return;
    $('#review-reason').value = '';
    lastRing.review = data.reviewRing.review;
    showRing(lastRing);
    setStatus(t('status.reviewed', { id: ringId, verdict: term('verdict', verdict) }), 'muted');
  }

  /* ---- nodes ---- */
  function focusNode(id) {
    const node = view.nodes.get(id);
    if (node) showDetails(node);
    else setStatus(t('status.notInPicture', { id }), 'muted');
  }

  function showDetails(node) {
    view.select(node.id);
    $('#details-panel').hidden = false;
    $('#details-title').textContent = node.title || node.key;
    const facts = $('#details-facts');
    facts.replaceChildren();
    fact(facts, t('fact.label'), term('label', node.label));
    fact(facts, t('fact.key'), node.key);
    if (node.ringIds && node.ringIds.length) fact(facts, t('fact.rings'), node.ringIds.join(', '));
    if (node.riskScore !== null && node.riskScore !== undefined) fact(facts, t('fact.risk'), node.riskScore.toFixed(3));
    if (node.cutCount > 0) fact(facts, t('fact.notShown'), t('fact.notShownValue', { n: node.cutCount }));
    const rows = Object.entries(node.props || {})
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => el('tr', {}, [
        el('th', { text: k }),
        el('td', { text: typeof v === 'object' ? JSON.stringify(v) : String(v) }),
      ]));
    $('#details-props tbody').replaceChildren(...rows);
    $('#expand').onclick = () => expandNode(node);
    if (node.label === 'Patient') {
      const person = (node.props || {}).person_id;
      window.MedfraudTimeline.render($('#timeline'), view.nodes.values(), {
        mode: 'person', person, title: t('timeline.person', { name: node.title || node.key }),
      });
    }
  }

  async function expandNode(node) {
    const data = await withBusy(t('status.expanding', { title: node.title }), () =>
      gql(SUBGRAPH_QUERY, { seeds: [refToSeed(node.id)], hops: 1, maxNodes: 150 }));
    if (!data) return;
    const before = view.nodes.size;
    view.merge(data.subgraph, node.id);
    const added = view.nodes.size - before;
    setStatus(t('status.expanded', { title: node.title, added, n: view.nodes.size,
      truncated: data.subgraph.truncated ? t('status.truncated') : '' }), 'muted');
    const refreshed = view.nodes.get(node.id);
    if (refreshed) showDetails(refreshed);
  }

  function onNodeClick(node) {
    showDetails(node);
    expandNode(node);
  }

  /* ---- search ---- */
  async function search(text) {
    const data = await withBusy(t('search.busy', { text }), () => gql(SEARCH_QUERY, { text }));
    if (!data) return;
    const hits = data.search;
    $('#search-results').replaceChildren(...hits.map((h) => el('li', {}, [
      el('button', { type: 'button', onclick: () => openNode(h.id) }, [
        dotFor(h.label),
        el('span', { text: h.title }),
        el('span', { className: 'muted', text: ` ${term('label', h.label)}` }),
      ]),
    ])));
    setStatus(hits.length ? t('search.hits', { n: hits.length, text }) : t('search.none', { text }), 'muted');
  }

  async function openNode(id) {
    const data = await withBusy(t('status.nodeLoading', { id }), () =>
      gql(SUBGRAPH_QUERY, { seeds: [refToSeed(id)], hops: 1, maxNodes: 150 }));
    if (!data) return;
    clearPicture();
    document.body.dataset.view = 'node';
    view.merge(data.subgraph, null);
    const node = view.nodes.get(id);
    if (node) showDetails(node);
    setStatus(t('status.around', { n: view.nodes.size, id }), 'muted');
  }

  /* ---- legend: click a label to hide or show it ---- */
  function renderLegend(v) {
    const legend = $('#legend');
    legend.replaceChildren();
    const labels = v.labels();
    if (!labels.length) return;
    for (const label of labels) {
      const hidden = v.hiddenLabels.has(label);
      legend.append(el('button', {
        type: 'button', className: hidden ? 'legend-item off' : 'legend-item', title: t('legend.toggle'),
        'data-legend-label': label, onclick: () => v.setLabelHidden(label, !v.hiddenLabels.has(label)),
      }, [dotFor(label), el('span', { text: term('label', label) })]));
    }
    if (v.highlightRing) {
      legend.append(el('div', {}, [el('span', { className: 'dot halo-sample' }), el('span', { text: t('legend.ringMember') })]));
    }
    for (const type of v.edgeTypes()) {
      const bar = el('span', { className: 'bar' });
      bar.style.background = window.MedfraudGraph.edgeColourOf(type);
      legend.append(el('div', { 'data-legend-type': type }, [bar, el('span', { text: term('edge', type) })]));
    }
  }

  function hidePanels() {
    $('#ring-panel').hidden = true;
    $('#case-panel').hidden = true;
    $('#details-panel').hidden = true;
  }

  /* ---- export ---- */
  function download(name, href) {
    const a = el('a', { href, download: name });
    document.body.append(a);
    a.click();
    a.remove();
  }

  function exportName(ext) {
    const what = M.currentCase || M.currentRing || 'network';
    return `medfraud-${what}.${ext}`;
  }

  function onSelect(ids) {
    const bar = $('#selection-bar');
    bar.hidden = ids.length < 2 || !['investigator', 'admin'].includes(role());
    $('#selection-count').textContent = t('selection.count', { n: ids.length });
    $('#selection-add').disabled = !M.currentCase;
    document.body.dataset.selected = String(ids.length);
  }

  /* ---- language ---- */
  async function switchLanguage(lang) {
    I18N.setLang(lang);
    fillLayouts();
    if (!token()) { setStatus(t('status.start'), 'muted'); return; }
    $('#whoami').textContent = describeToken(token());
    renderLegend(view);
    // evidence is written by the server in the request's language: ask again rather than translate here
    await loadRings();
    if (M.cases) await M.cases.loadCases();
    if (M.currentCase && M.cases) await M.cases.openCase(M.currentCase);
    else if (M.currentRing) await loadRing(M.currentRing);
  }

  function fillLayouts() {
    const select = $('#layout');
    const current = view ? view.layoutName : 'fcose';
    select.replaceChildren(...window.MedfraudGraph.LAYOUTS.map((name) =>
      el('option', { value: name, text: t(`layout.${name}`), selected: name === current })));
  }

  /* ---- start ---- */
  function readFragment() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    const fragment = { token: params.get('token'), ring: params.get('ring'), node: params.get('node'),
      q: params.get('q'), case: params.get('case'), lang: params.get('lang') };
    if (fragment.token) {
      params.delete('token');
      const rest = params.toString();
      history.replaceState(null, '', window.location.pathname + window.location.search + (rest ? `#${rest}` : ''));
    }
    return fragment;
  }

  async function start() {
    await I18N.load();
    const fragment = readFragment();
    if (fragment.lang) I18N.setLang(fragment.lang);
    I18N.apply();
    $('#lang').value = I18N.lang;
    setStatus(t('status.start'), 'muted');
    view = new window.MedfraudGraph.NetworkView($('#graph'), { onNodeClick, onRender: renderLegend, onSelect });
    M.view = view;
    window.medfraudView = view; // for the browser tests and the curious: the picture's cytoscape instance
    fillLayouts();
    $('#lang').addEventListener('change', (ev) => switchLanguage(ev.target.value));
    $('#token-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (useToken($('#token').value)) await afterToken({});
    });
    $('#token-forget').addEventListener('click', forgetToken);
    $('#search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = $('#search-text').value.trim();
      if (text) search(text);
    });
    $('#rings-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadRings(); });
    $('#review-confirm').addEventListener('click', () => reviewRing('CONFIRMED'));
    $('#review-dismiss').addEventListener('click', () => reviewRing('DISMISSED'));
    $('#layout').addEventListener('change', (ev) => view.setLayout(ev.target.value));
    $('#box-select').addEventListener('click', (ev) => {
      const on = ev.target.getAttribute('aria-pressed') !== 'true';
      ev.target.setAttribute('aria-pressed', String(on));
      view.setBoxSelect(on);
    });
    $('#fit').addEventListener('click', () => view.fit());
    $('#clear').addEventListener('click', clearPicture);
    $('#export-png').addEventListener('click', () => download(exportName('png'), view.pngDataUrl()));
    $('#export-svg').addEventListener('click', () => {
      const url = URL.createObjectURL(new Blob([view.svgText()], { type: 'image/svg+xml' }));
      download(exportName('svg'), url);
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    });

    if (fragment.token) useToken(fragment.token);
    else if (token()) { $('#whoami').textContent = describeToken(token()); applyRole(); }
    if (!token()) return;
    await afterToken(fragment);
  }

  async function afterToken(fragment) {
    await loadRings();
    if (M.cases) await M.cases.afterToken(fragment);
    if (fragment.ring) await loadRing(fragment.ring);
    else if (fragment.node) await openNode(fragment.node);
    if (fragment.q) {
      $('#search-text').value = fragment.q;
      await search(fragment.q);
    }
  }

  Object.assign(M, {
    el, gql, withBusy, setStatus, setState, fact, dotFor, role, refToSeed, clearPicture, markActive,
    showDetails, authHeaders, download, UiError, loadRing,
    view: null, currentRing: null, currentCase: null,
  });
  window.Medfraud = M;
  document.addEventListener('DOMContentLoaded', start);
})();
