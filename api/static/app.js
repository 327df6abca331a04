/* The investigator's page: token, search, ring picker, network, ring evidence and node details.
 *
 * Everything comes from POST /graphql with the user's bearer token, so the page shows exactly
 * what the server lets this role see (masking happens server-side; the page never unmasks).
 * The token lives in sessionStorage only: it is gone when the tab closes. A link may carry
 * `#token=…&ring=…` (or `&node=Label:key`, `&q=text`); the page takes the token, then removes it
 * from the address bar so it does not linger in history or get copied along with the URL.
 */
'use strict';

(function () {
  const TOKEN_KEY = 'medfraud.token';
  const NODE_FIELDS = 'id label key title props ringIds riskScore cutCount';
  const SUBGRAPH_FIELDS = `nodes { ${NODE_FIELDS} } edges { id type source target date } truncated`;
  const RING_QUERY = `query Ring($id: ID!) {
    ring(id: $id) {
      ringId kind score status memberCount evidence
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

  const $ = (sel) => document.querySelector(sel);
  let view = null;
  let currentRing = null;
  let busy = 0;

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
      setStatus(err instanceof UiError ? err.message : `Unexpected error: ${err}`, 'error');
      return null;
    } finally {
      busy -= 1;
    }
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  async function gql(query, variables) {
    const bearer = token();
    if (!bearer) throw new UiError('Enter your access token first.');
    let resp;
    try {
      resp = await fetch('/graphql', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bearer}` },
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      throw new UiError(`Cannot reach the server: ${err.message}`);
    }
    if (resp.status === 401) throw new UiError('The token was refused (expired or invalid): enter a new one.');
    let body;
    try {
      body = await resp.json();
    } catch (err) {
      throw new UiError(`The server answered ${resp.status} without a GraphQL result.`);
    }
    if (body.errors && body.errors.length) {
      const first = body.errors[0];
      const code = first.extensions && first.extensions.code ? ` [${first.extensions.code}]` : '';
      throw new UiError(first.message + code);
    }
    if (!resp.ok) throw new UiError(`The server answered ${resp.status}.`);
    return body.data;
  }

  // For display only: the server checks the token, the page just tells the user who they are.
  function describeToken(bearer) {
    try {
      const part = bearer.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const claims = JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
      const expires = claims.exp ? new Date(claims.exp * 1000).toISOString().slice(0, 16).replace('T', ' ') : '?';
      return `${claims.sub || '?'} · ${claims.role || '?'} · ${claims.agency || '?'} · until ${expires} UTC`;
    } catch (err) {
      return 'token set';
    }
  }

  function refToSeed(id) {
    // Ids are "Label:key"; claim keys contain a colon themselves, so split at the first one only.
    const at = id.indexOf(':');
    return { label: id.slice(0, at), key: id.slice(at + 1) };
  }

  /* ---- token ---- */
  function useToken(value) {
    const bearer = value.trim();
    if (!bearer) return false;
    sessionStorage.setItem(TOKEN_KEY, bearer);
    $('#token').value = '';
    $('#whoami').textContent = describeToken(bearer);
    return true;
  }

  function forgetToken() {
    sessionStorage.removeItem(TOKEN_KEY);
    $('#whoami').textContent = '';
    $('#ring-list').replaceChildren();
    $('#rings-total').textContent = '';
    view.clear();
    hidePanels();
    setState('idle');
    setStatus('Token forgotten. Enter a token to continue.', 'muted');
  }

  /* ---- rings ---- */
  async function loadRings() {
    const minScore = parseFloat($('#min-score').value) || 0;
    const data = await withBusy('Loading rings…', () => gql(RINGS_QUERY, { first: 100, minScore }));
    if (!data) return;
    const rings = data.rings.edges.map((e) => e.node).sort((a, b) => b.score - a.score || a.ringId.localeCompare(b.ringId));
    $('#rings-total').textContent = `${data.rings.totalCount} ring(s) with score ≥ ${minScore}` +
      (data.rings.totalCount > rings.length ? `, top ${rings.length} shown` : '');
    $('#ring-list').replaceChildren(...rings.map((r) => el('li', { 'data-ring': r.ringId }, [
      el('button', {
        type: 'button',
        className: [r.ringId === currentRing ? 'active' : '', r.status === 'vanished' ? 'vanished' : ''].join(' ').trim(),
        onclick: () => loadRing(r.ringId),
      }, [
        el('strong', { text: r.ringId }),
        el('span', { className: 'score', text: r.score.toFixed(2) }),
        el('span', { className: 'muted' }, [
          el('span', { className: `badge ${r.kind}`, text: r.kind.replace('_', ' ') }),
          ` ${r.memberCount} members · ${r.status}`,
        ]),
      ]),
    ])));
    if (!currentRing) setStatus(rings.length ? 'Pick a ring or search for a person, doctor or institution.' : 'No rings yet.', 'muted');
  }

  function markActiveRing() {
    for (const li of document.querySelectorAll('#ring-list li')) {
      li.firstChild.classList.toggle('active', li.dataset.ring === currentRing);
    }
  }

  async function loadRing(ringId) {
    const data = await withBusy(`Loading ring ${ringId}…`, () => gql(RING_QUERY, { id: ringId }));
    if (!data) return;
    const ring = data.ring;
    if (!ring) {
      setState('error');
      setStatus(`Ring ${ringId} not found (or not visible to you).`, 'error');
      return;
    }
    currentRing = ring.ringId;
    markActiveRing();
    view.clear();
    view.setRing(ring.ringId);
    view.merge(ring.subgraph, null);
    showRing(ring);
    $('#details-panel').hidden = true;
    setStatus(`Ring ${ring.ringId}: ${view.nodes.size} nodes` +
      (ring.subgraph.truncated ? ' (truncated at the node limit)' : '') + '. Click a node to expand it.', 'muted');
    document.body.dataset.ring = ring.ringId;
  }

  function fact(list, term, value) {
    list.append(el('dt', { text: term }), el('dd', { text: value }));
  }

  function showRing(ring) {
    $('#ring-panel').hidden = false;
    $('#ring-title').textContent = `Ring ${ring.ringId}`;
    const facts = $('#ring-facts');
    facts.replaceChildren();
    fact(facts, 'kind', ring.kind.replace('_', ' '));
    fact(facts, 'score', ring.score.toFixed(3));
    fact(facts, 'status', ring.status);
    fact(facts, 'members', String(ring.memberCount));
    if (ring.scoreHistory && ring.scoreHistory.length > 1) {
      fact(facts, 'history', ring.scoreHistory.map((p) => `${p.score.toFixed(2)} (${p.memberCount})`).join(' → '));
    }
    if (ring.review && ring.review.verdict) {
      fact(facts, 'review', `${ring.review.verdict} by ${ring.review.reviewedBy || '?'}: ${ring.review.reason || ''}`);
    }
    $('#evidence').replaceChildren(...ring.evidence.map((line) => el('li', { text: line })));
    const order = { Institution: 0, Pharmacy: 1, Doctor: 2, Phone: 3, BankAccount: 4, Address: 5, Patient: 6 };
    const members = ring.members.slice().sort((a, b) =>
      (order[a.type] ?? 9) - (order[b.type] ?? 9) || String(a.title).localeCompare(String(b.title)));
    $('#members').replaceChildren(...members.map((m) => {
      const id = `${m.type}:${m.id}`;
      return el('li', { 'data-member': id }, [
        el('button', { type: 'button', onclick: () => focusNode(id) }, [
          el('span', { className: 'dot', 'data-label': m.type }),
          el('span', { text: m.title }),
          el('span', { className: 'muted', text: ` ${m.type}${m.role ? ' · ' + m.role : ''}` }),
        ]),
      ]);
    }));
    for (const dot of document.querySelectorAll('#members .dot')) {
      dot.style.background = window.MedfraudGraph.colourOf(dot.dataset.label);
    }
  }

  /* ---- nodes ---- */
  function focusNode(id) {
    const node = view.nodes.get(id);
    if (node) showDetails(node);
    else setStatus(`${id} is not in the picture; expand a neighbour to bring it in.`, 'muted');
  }

  function showDetails(node) {
    view.select(node.id);
    $('#details-panel').hidden = false;
    $('#details-title').textContent = node.title || node.key;
    const facts = $('#details-facts');
    facts.replaceChildren();
    fact(facts, 'label', node.label);
    fact(facts, 'key', node.key);
    if (node.ringIds && node.ringIds.length) fact(facts, 'rings', node.ringIds.join(', '));
    if (node.riskScore !== null && node.riskScore !== undefined) fact(facts, 'risk score', node.riskScore.toFixed(3));
    if (node.cutCount > 0) fact(facts, 'not shown', `${node.cutCount} more relationships (hub cap)`);
    const rows = Object.entries(node.props || {})
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => el('tr', {}, [
        el('th', { text: k }),
        el('td', { text: typeof v === 'object' ? JSON.stringify(v) : String(v) }),
      ]));
    $('#details-props tbody').replaceChildren(...rows);
    $('#expand').onclick = () => expandNode(node);
  }

  async function expandNode(node) {
    const data = await withBusy(`Expanding ${node.title}…`, () =>
      gql(SUBGRAPH_QUERY, { seeds: [refToSeed(node.id)], hops: 1, maxNodes: 150 }));
    if (!data) return;
    const before = view.nodes.size;
    view.merge(data.subgraph, node.id);
    const added = view.nodes.size - before;
    setStatus(`${node.title}: ${added} new node(s)` +
      (data.subgraph.truncated ? ' (truncated at the node limit)' : '') + `; ${view.nodes.size} in the picture.`, 'muted');
    const refreshed = view.nodes.get(node.id);
    if (refreshed) showDetails(refreshed);
  }

  function onNodeClick(node) {
    showDetails(node);
    expandNode(node);
  }

  /* ---- search ---- */
  async function search(text) {
    const data = await withBusy(`Searching “${text}”…`, () => gql(SEARCH_QUERY, { text }));
    if (!data) return;
    const hits = data.search;
    $('#search-results').replaceChildren(...hits.map((h) => el('li', {}, [
      el('button', { type: 'button', onclick: () => openHit(h) }, [
        el('span', { className: 'dot', 'data-label': h.label }),
        el('span', { text: h.title }),
        el('span', { className: 'muted', text: ` ${h.label}` }),
      ]),
    ])));
    for (const dot of document.querySelectorAll('#search-results .dot')) {
      dot.style.background = window.MedfraudGraph.colourOf(dot.dataset.label);
    }
    setStatus(hits.length ? `${hits.length} hit(s) for “${text}”.` : `Nothing found for “${text}”.`, 'muted');
  }

  async function openHit(hit) {
    await openNode(hit.id);
  }

  async function openNode(id) {
    const data = await withBusy(`Loading ${id}…`, () =>
      gql(SUBGRAPH_QUERY, { seeds: [refToSeed(id)], hops: 1, maxNodes: 150 }));
    if (!data) return;
    currentRing = null;
    markActiveRing();
    delete document.body.dataset.ring;
    view.clear();
    view.setRing(null);
    $('#ring-panel').hidden = true;
    view.merge(data.subgraph, null);
    const node = view.nodes.get(id);
    if (node) showDetails(node);
    setStatus(`${view.nodes.size} nodes around ${id}. Click a node to expand it.`, 'muted');
  }

  /* ---- legend ---- */
  function renderLegend(v) {
    const labels = new Set();
    const types = new Set();
    for (const n of v.nodes.values()) labels.add(n.label);
    for (const line of v.edgeLayer.children) types.add(line.dataset.type);
    const legend = $('#legend');
    legend.replaceChildren();
    if (!labels.size) return;
    for (const label of Array.from(labels).sort()) {
      const dot = el('span', { className: 'dot' });
      dot.style.background = window.MedfraudGraph.colourOf(label);
      legend.append(el('div', { 'data-legend-label': label }, [dot, el('span', { text: label })]));
    }
    if (v.highlightRing) {
      legend.append(el('div', {}, [el('span', { className: 'dot halo-sample' }), el('span', { text: 'ring member' })]));
    }
    for (const type of Array.from(types).sort()) {
      const bar = el('span', { className: 'bar' });
      bar.style.background = window.MedfraudGraph.edgeColourOf(type);
      legend.append(el('div', { 'data-legend-type': type }, [bar, el('span', { text: type })]));
    }
  }

  function hidePanels() {
    $('#ring-panel').hidden = true;
    $('#details-panel').hidden = true;
  }

  /* ---- start ---- */
  function readFragment() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    const fragment = { token: params.get('token'), ring: params.get('ring'), node: params.get('node'), q: params.get('q') };
    if (fragment.token) {
      params.delete('token');
      const rest = params.toString();
      history.replaceState(null, '', window.location.pathname + window.location.search + (rest ? `#${rest}` : ''));
    }
    return fragment;
  }

  async function start() {
    view = new window.MedfraudGraph.NetworkView($('#graph'), { onNodeClick, onRender: renderLegend });
    $('#token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (useToken($('#token').value)) loadRings();
    });
    $('#token-forget').addEventListener('click', forgetToken);
    $('#search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = $('#search-text').value.trim();
      if (text) search(text);
    });
    $('#rings-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadRings(); });
    $('#fit').addEventListener('click', () => view.fit());
    $('#clear').addEventListener('click', () => {
      currentRing = null;
      markActiveRing();
      view.setRing(null);
      view.clear();
      hidePanels();
    });
    $('#graph').addEventListener('click', () => view.select(null));

    const fragment = readFragment();
    if (fragment.token) useToken(fragment.token);
    else if (token()) $('#whoami').textContent = describeToken(token());
    if (!token()) return;
    await loadRings();
    if (fragment.ring) await loadRing(fragment.ring);
    else if (fragment.node) await openNode(fragment.node);
    if (fragment.q) {
      $('#search-text').value = fragment.q;
      await search(fragment.q);
    }
  }

  document.addEventListener('DOMContentLoaded', start);
})();
