/* The timeline beside the picture, drawn as SVG from the claims in the picture.
 *
 * - `days` (a ring or a case): distinct persons with a claim per day as bars (for a ring, at its
 *   institution), and the institution's usual daily traffic as a dashed line when the server
 *   knows it, so "met on 12 days far above normal traffic" is seen, not only read.
 * - `person`: one lane per scheme; outpatient and pharmacy claims as ticks, stays as bars from
 *   admission to discharge, so overlapping stays and claims during a stay stand out.
 */
'use strict';

(function () {
  const NS = 'http://www.w3.org/2000/svg'; // an XML namespace name, never fetched
  const SCHEME_COLOURS = { medical: '#1f77b4', work_injury: '#d62728', commercial: '#9467bd' };
  const DAY = 86400000;

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function parseDay(value) {
    if (!value || typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
    const ms = Date.parse(value.slice(0, 10) + 'T00:00:00Z');
    return Number.isNaN(ms) ? null : ms;
  }

  function iso(ms) { return new Date(ms).toISOString().slice(0, 10); }

  /* Claims of the picture: [{start, end, scheme, visitType, person}] with days as epoch ms. */
  function claimsOf(nodes, personFilter, institutionFilter) {
    const out = [];
    for (const node of nodes) {
      if (node.label !== 'Claim') continue;
      const p = node.props || {};
      const start = parseDay(p.start_date);
      if (start === null) continue;
      if (personFilter && p.person_id !== personFilter) continue;
      if (institutionFilter && p.institution_id !== institutionFilter) continue;
      const end = parseDay(p.end_date);
      out.push({ start, end: end !== null && end >= start ? end : start, scheme: p.scheme || '',
        visitType: p.visit_type || '', person: p.person_id || node.id });
    }
    return out;
  }

  function frame(container, t, title, left) {
    const width = Math.max(container.clientWidth || 600, 300);
    const height = container.clientHeight || 150;
    const svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
    svg.append(svgEl('text', { x: 8, y: 14, class: 'tl-title' }, title));
    container.replaceChildren(svg);
    return { svg, width, height, left: left || 36, right: width - 10, top: 22, bottom: height - 18 };
  }

  function axis(f, lo, hi) {
    const x = (ms) => f.left + ((ms - lo) / Math.max(hi - lo, DAY)) * (f.right - f.left);
    f.svg.append(svgEl('line', { x1: f.left, x2: f.right, y1: f.bottom, y2: f.bottom, class: 'tl-axis' }));
    const ticks = 5;
    for (let i = 0; i <= ticks; i += 1) {
      const ms = lo + ((hi - lo) * i) / ticks;
      f.svg.append(svgEl('text', { x: x(ms), y: f.bottom + 12, class: 'tl-tick', 'text-anchor': 'middle' }, iso(ms)));
    }
    return x;
  }

  function renderDays(container, claims, opts) {
    const t = window.MedfraudI18n.t;
    const f = frame(container, t, opts.title);
    const perDay = new Map();
    for (const c of claims) {
      if (!perDay.has(c.start)) perDay.set(c.start, new Set());
      perDay.get(c.start).add(c.person);
    }
    const days = Array.from(perDay.keys()).sort((a, b) => a - b);
    const lo = days[0] - DAY;
    const hi = days[days.length - 1] + DAY;
    const x = axis(f, lo, hi);
    const max = Math.max(...days.map((d) => perDay.get(d).size), opts.usual || 0, 1);
    const y = (n) => f.bottom - (n / max) * (f.bottom - f.top);
    const barW = Math.max(2, Math.min(10, ((f.right - f.left) / Math.max((hi - lo) / DAY, 1)) * 0.8));
    for (const d of days) {
      const n = perDay.get(d).size;
      const bar = svgEl('rect', { x: x(d) - barW / 2, y: y(n), width: barW, height: f.bottom - y(n), class: 'tl-bar',
        'data-day': iso(d), 'data-count': n });
      bar.append(svgEl('title', {}, t('timeline.day', { day: iso(d), n })));
      f.svg.append(bar);
    }
    f.svg.append(svgEl('text', { x: f.left - 4, y: f.top + 8, class: 'tl-tick', 'text-anchor': 'end' }, String(max)));
    if (opts.usual) {
      f.svg.append(svgEl('line', { x1: f.left, x2: f.right, y1: y(opts.usual), y2: y(opts.usual), class: 'tl-usual' }));
      f.svg.append(svgEl('text', { x: f.right, y: y(opts.usual) - 3, class: 'tl-tick', 'text-anchor': 'end' },
        t('timeline.usual', { n: Math.round(opts.usual) })));
    }
    container.dataset.days = String(days.length);
  }

  function renderPerson(container, claims, opts) {
    const t = window.MedfraudI18n.t;
    const f = frame(container, t, opts.title, 78);
    const schemes = Array.from(new Set(claims.map((c) => c.scheme))).sort();
    const lo = Math.min(...claims.map((c) => c.start)) - DAY;
    const hi = Math.max(...claims.map((c) => c.end)) + DAY;
    const x = axis(f, lo, hi);
    const lane = (f.bottom - f.top) / Math.max(schemes.length, 1);
    schemes.forEach((scheme, i) => {
      const top = f.top + i * lane;
      f.svg.append(svgEl('text', { x: f.left - 4, y: top + lane / 2 + 3, class: 'tl-tick', 'text-anchor': 'end' },
        window.MedfraudI18n.term('scheme', scheme)));
      for (const c of claims.filter((k) => k.scheme === scheme)) {
        const colour = SCHEME_COLOURS[scheme] || '#555';
        const stay = c.visitType === 'inpatient';
        const w = stay ? Math.max(x(c.end + DAY) - x(c.start), 3) : 2;
        const mark = svgEl('rect', { x: x(c.start), y: top + (stay ? lane * 0.25 : lane * 0.1), width: w,
          height: stay ? lane * 0.5 : lane * 0.8, fill: colour, class: stay ? 'tl-stay' : 'tl-visit' });
        mark.append(svgEl('title', {}, `${iso(c.start)}${stay ? ' – ' + iso(c.end) : ''} ${window.MedfraudI18n.term('visit', c.visitType)}`));
        f.svg.append(mark);
      }
    });
    container.dataset.days = String(new Set(claims.map((c) => c.start)).size);
  }

  function render(container, nodes, opts) {
    const t = window.MedfraudI18n.t;
    const claims = claimsOf(nodes, opts.person || null, opts.institution || null);
    container.dataset.mode = opts.mode;
    if (!claims.length) {
      container.replaceChildren(Object.assign(document.createElement('p'), { className: 'muted', textContent: t('timeline.none') }));
      container.dataset.days = '0';
      return;
    }
    if (opts.mode === 'person') renderPerson(container, claims, opts);
    else renderDays(container, claims, opts);
  }

  window.MedfraudTimeline = { render, claimsOf };
})();
