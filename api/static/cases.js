/* Cases in the page: the cases list, a case page (picture, members, claims, notes, history) and
 * the actions on it — open a case from a ring or a selection, add a selection, confirm/dismiss a
 * ring (app.js), write notes, move the status, share with a police agency, fetch the dossier.
 *
 * Every action is a GraphQL mutation with the user's token; the server decides who may do what
 * (only the owning agency's investigators move or share a case) and the page shows its refusal.
 * A police token opens straight onto the cases shared with its agency.
 */
'use strict';

(function () {
  const M = window.Medfraud;
  const { t, term, $ } = M;
  const STATUSES = ['open', 'investigating', 'referred_to_police', 'closed'];
  const INCLUDABLE = ['Patient', 'Doctor', 'Institution', 'Pharmacy', 'Claim', 'InjuryCase'];
  const NODE_FIELDS = 'id label key title props ringIds riskScore cutCount';
  const CASE_FIELDS = 'caseId title status createdBy agency sharedWith createdAt updatedAt';
  const CASES_QUERY = `query Cases($first: Int) {
    cases(first: $first) { totalCount edges { node { ${CASE_FIELDS} } } }
  }`;
  const CASE_QUERY = `query Case($id: ID!) {
    case(id: $id) {
      ${CASE_FIELDS}
      rings { ringId kind score memberCount review { verdict reason reviewedBy reviewedAt } }
      entities { ${NODE_FIELDS} }
      notes { noteId text author createdAt }
      subgraph(hops: 1, maxNodes: 300) { nodes { ${NODE_FIELDS} } edges { id type source target date } truncated }
    }
  }`;
  const OPEN_CASE = `mutation Open($title: String!, $ringIds: [String!], $entities: [NodeRef!]) {
    openCase(title: $title, ringIds: $ringIds, entities: $entities) { caseId }
  }`;
  const ADD_ENTITIES = `mutation Add($caseId: String!, $entities: [NodeRef!]!) {
    addCaseEntities(caseId: $caseId, entities: $entities) { caseId }
  }`;
  const ADD_NOTE = `mutation Note($caseId: String!, $text: String!) {
    addCaseNote(caseId: $caseId, text: $text) { noteId }
  }`;
  const SET_STATUS = `mutation Status($caseId: String!, $status: String!) {
    setCaseStatus(caseId: $caseId, status: $status) { caseId status }
  }`;
  const SHARE = `mutation Share($caseId: String!, $agency: String!) {
    shareCase(caseId: $caseId, agency: $agency, agencyKind: "police") { caseId sharedWith }
  }`;

  const el = M.el;
  const canWrite = () => ['investigator', 'admin'].includes(M.role());
  const day = (value) => (value ? String(value).slice(0, 16).replace('T', ' ') : '');

  async function loadCases() {
    if (M.role() === 'analyst') return [];
    const data = await M.withBusy(t('cases.busy'), () => M.gql(CASES_QUERY, { first: 100 }));
    if (!data) return [];
    const cases = data.cases.edges.map((e) => e.node);
    $('#cases-total').textContent = cases.length ? t('cases.total', { n: data.cases.totalCount }) : t('cases.none');
    $('#case-list').replaceChildren(...cases.map((c) => el('li', { 'data-case': c.caseId }, [
      el('button', { type: 'button', className: c.caseId === M.currentCase ? 'active' : '', onclick: () => openCase(c.caseId) }, [
        el('strong', { text: c.title }),
        el('span', { className: `badge status-${c.status}`, text: term('caseStatus', c.status) }),
        el('span', { className: 'muted', text: `${c.caseId} · ${day(c.createdAt)}` }),
      ]),
    ])));
    return cases;
  }

  async function openCase(caseId) {
    const data = await M.withBusy(t('status.caseLoading', { id: caseId }), () => M.gql(CASE_QUERY, { id: caseId }));
    if (!data) return;
    const c = data.case;
    if (!c) {
      M.setState('error');
      M.setStatus(t('status.caseNotFound', { id: caseId }), 'error');
      return;
    }
    M.clearPicture();
    M.currentCase = c.caseId;
    M.markActive();
    const view = M.view;
    view.setRing(c.rings.length ? c.rings[0].ringId : null);
    view.merge(c.subgraph, null);
    showCase(c);
    document.body.dataset.view = 'case';
    document.body.dataset.case = c.caseId;
    M.setStatus(t('status.caseDrawn', { id: c.caseId, n: view.nodes.size }), 'muted');
  }

  function history(c) {
    const events = [{ at: c.createdAt, text: t('history.opened', { who: c.createdBy || '?' }) }];
    for (const r of c.rings) {
      if (r.review && r.review.verdict) {
        events.push({ at: r.review.reviewedAt, text: t('history.review', { ring: r.ringId,
          verdict: term('verdict', r.review.verdict), who: r.review.reviewedBy || '?' }) });
      }
    }
    for (const n of c.notes) events.push({ at: n.createdAt, text: t('history.note', { who: n.author || '?' }) });
    // the case keeps whom it is shared with, not when: those lines come last, without a time
    for (const a of c.sharedWith) events.push({ at: null, text: t('history.shared', { agency: a }) });
    if (c.updatedAt && c.updatedAt !== c.createdAt) {
      events.push({ at: c.updatedAt, text: t('history.updated', { status: term('caseStatus', c.status) }) });
    }
    return events.sort((a, b) => (a.at === null) - (b.at === null) || String(a.at || '').localeCompare(String(b.at || '')));
  }

  function claimRows(nodes) {
    return nodes.filter((n) => n.label === 'Claim')
      .sort((a, b) => String((a.props || {}).start_date).localeCompare(String((b.props || {}).start_date)));
  }

  function showCase(c) {
    $('#ring-panel').hidden = true;
    $('#details-panel').hidden = true;
    $('#case-panel').hidden = false;
    $('#case-title-heading').textContent = t('case.title', { id: c.caseId });
    const facts = $('#case-facts');
    facts.replaceChildren();
    M.fact(facts, t('case.name'), c.title);
    M.fact(facts, t('case.status'), term('caseStatus', c.status));
    M.fact(facts, t('case.agency'), c.agency || '');
    M.fact(facts, t('case.sharedWith'), c.sharedWith.length ? c.sharedWith.join('、') : t('case.none'));
    M.fact(facts, t('case.createdBy'), c.createdBy || '');
    M.fact(facts, t('case.createdAt'), day(c.createdAt));
    M.fact(facts, t('case.updatedAt'), day(c.updatedAt));
    if (c.rings.length) M.fact(facts, t('case.rings'), c.rings.map((r) => `${r.ringId}（${term('kind', r.kind)}）`).join('、'));
    document.body.dataset.caseStatus = c.status;
    document.body.dataset.sharedWith = c.sharedWith.join(',');

    $('#case-owner-actions').hidden = !canWrite();
    $('#case-status').replaceChildren(...STATUSES.map((s) => el('option', { value: s, text: term('caseStatus', s), selected: s === c.status })));
    $('#case-notes').replaceChildren(...c.notes.map((n) => el('li', { 'data-note': n.noteId }, [
      el('span', { className: 'muted', text: `${day(n.createdAt)} ${n.author || ''}：` }), el('span', { text: n.text }),
    ])));
    $('#case-members').replaceChildren(...c.entities.map((n) => el('li', { 'data-member': n.id }, [
      el('button', { type: 'button', onclick: () => { const node = M.view.nodes.get(n.id); if (node) M.showDetails(node); } }, [
        M.dotFor(n.label), el('span', { text: n.title }), el('span', { className: 'muted', text: ` ${term('label', n.label)}` }),
      ]),
    ])));
    const claims = claimRows(Array.from(M.view.nodes.values()));
    $('#case-claims thead').replaceChildren(el('tr', {}, ['col.date', 'col.scheme', 'col.visitType', 'col.person', 'col.reimbursed']
      .map((k) => el('th', { text: t(k) }))));
    $('#case-claims tbody').replaceChildren(...claims.slice(0, 200).map((n) => {
      const p = n.props || {};
      return el('tr', { 'data-claim': n.id }, [
        el('td', { text: String(p.start_date || '') }), el('td', { text: term('scheme', p.scheme) }),
        el('td', { text: term('visit', p.visit_type) }), el('td', { text: String(p.person_id || '') }),
        el('td', { className: 'num', text: p.reimbursed_amount != null ? Number(p.reimbursed_amount).toFixed(2) : '' }),
      ]);
    }));
    $('#case-history').replaceChildren(...history(c).map((e) => el('li', {}, [
      el('span', { className: 'muted', text: `${day(e.at)} ` }), el('span', { text: e.text }),
    ])));
    window.MedfraudTimeline.render($('#timeline'), M.view.nodes.values(), { mode: 'days', title: t('timeline.case') });
  }

  async function mutate(query, variables, done) {
    const data = await M.withBusy(t('status.saving'), () => M.gql(query, variables));
    if (!data) return null;
    await loadCases();
    const result = await done(data);
    return result === undefined ? data : result;
  }

  async function openFromRing(ev) {
    ev.preventDefault();
    const ringId = M.currentRing;
    const title = $('#case-title').value.trim() || t('ring.defaultCaseTitle', { id: ringId });
    await mutate(OPEN_CASE, { title, ringIds: [ringId] }, async (data) => {
      await openCase(data.openCase.caseId);
      M.setStatus(t('status.caseOpened', { id: data.openCase.caseId }), 'muted');
    });
  }

  function selectionRefs() {
    return M.view.selectedIds().map(M.refToSeed).filter((r) => INCLUDABLE.includes(r.label));
  }

  async function openFromSelection() {
    const entities = selectionRefs();
    if (!entities.length) { M.setStatus(t('status.needSelection'), 'error'); return; }
    const title = $('#selection-title').value.trim();
    if (!title) { M.setStatus(t('status.needTitle'), 'error'); return; }
    await mutate(OPEN_CASE, { title, entities, ringIds: M.currentRing ? [M.currentRing] : [] }, async (data) => {
      await openCase(data.openCase.caseId);
      M.setStatus(t('status.caseOpened', { id: data.openCase.caseId }), 'muted');
    });
  }

  async function addSelection() {
    const entities = selectionRefs();
    if (!entities.length || !M.currentCase) { M.setStatus(t('status.needSelection'), 'error'); return; }
    const caseId = M.currentCase;
    await mutate(ADD_ENTITIES, { caseId, entities }, async () => {
      await openCase(caseId);
      M.setStatus(t('status.entitiesAdded', { id: caseId, n: entities.length }), 'muted');
    });
  }

  async function addNote(ev) {
    ev.preventDefault();
    const text = $('#note-text').value.trim();
    if (!text) return;
    const caseId = M.currentCase;
    await mutate(ADD_NOTE, { caseId, text }, async () => {
      $('#note-text').value = '';
      await openCase(caseId);
      M.setStatus(t('status.noteAdded'), 'muted');
    });
  }

  async function setStatus(ev) {
    ev.preventDefault();
    const caseId = M.currentCase;
    const status = $('#case-status').value;
    await mutate(SET_STATUS, { caseId, status }, async () => {
      await openCase(caseId);
      M.setStatus(t('status.statusChanged', { status: term('caseStatus', status) }), 'muted');
    });
  }

  async function share(ev) {
    ev.preventDefault();
    const agency = $('#share-agency').value.trim();
    if (!agency) return;
    const caseId = M.currentCase;
    await mutate(SHARE, { caseId, agency }, async () => {
      $('#share-agency').value = '';
      await openCase(caseId);
      M.setStatus(t('status.shared', { agency }), 'muted');
    });
  }

  async function dossier(ext) {
    const caseId = M.currentCase;
    const blob = await M.withBusy(t('status.saving'), async () => {
      const resp = await fetch(`/cases/${encodeURIComponent(caseId)}/dossier.${ext}`, { headers: M.authHeaders() });
      if (!resp.ok) {
        let detail = String(resp.status);
        try { detail = (await resp.json()).detail.message || detail; } catch (err) { /* not JSON */ }
        throw new M.UiError(t('error.status', { status: detail }));
      }
      return resp.blob();
    });
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    M.download(`${caseId}.${ext}`, url);
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    M.setState('ready');
  }

  async function afterToken(fragment) {
    const cases = await loadCases();
    if (fragment.case) await openCase(fragment.case);
    else if (M.role() === 'police' && !fragment.ring && !fragment.node) {
      // a police liaison's work is the cases shared with them: open the newest straight away
      if (cases.length) await openCase(cases[0].caseId);
      else M.setStatus(t('cases.none'), 'muted');
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('#cases-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadCases(); });
    $('#open-case-form').addEventListener('submit', openFromRing);
    $('#selection-open-case').addEventListener('click', openFromSelection);
    $('#selection-add').addEventListener('click', addSelection);
    $('#note-form').addEventListener('submit', addNote);
    $('#status-form').addEventListener('submit', setStatus);
    $('#share-form').addEventListener('submit', share);
    $('#dossier-pdf').addEventListener('click', (ev) => { ev.preventDefault(); dossier('pdf'); });
    $('#dossier-xlsx').addEventListener('click', (ev) => { ev.preventDefault(); dossier('xlsx'); });
  });

  M.cases = { loadCases, openCase, afterToken };
})();
