/* Network picture: a small force layout and an SVG renderer, no third-party code.
 *
 * The layout follows the velocity-Verlet scheme of d3-force (many-body repulsion, springs on
 * edges, a weak pull to the centre, cooling "alpha"), computed synchronously before drawing so
 * that a picture is stable as soon as it appears (and screenshots are deterministic). New nodes
 * merged in by an expansion start next to the node they came from and the old nodes barely move,
 * so an investigator keeps their mental map while the network grows.
 */
'use strict';

(function () {
  const LABEL_COLOURS = {
    Patient: '#1f77b4',
    Doctor: '#2ca02c',
    Institution: '#ff7f0e',
    Pharmacy: '#9467bd',
    Claim: '#b0b0b0',
    InjuryCase: '#e377c2',
    Phone: '#d62728',
    BankAccount: '#8c564b',
    Address: '#17becf',
    Employer: '#bcbd22',
    Ring: '#111111',
    Finding: '#7f7f7f',
    Case: '#393b79',
  };
  const EDGE_COLOURS = {
    HAS_CLAIM: '#6baed6',
    TREATED_AT: '#fdae6b',
    BY_DOCTOR: '#74c476',
    FOR_INJURY: '#f7b6d2',
    HAS_INJURY: '#f7b6d2',
    WORKS_AT: '#31a354',
    IS_PERSON: '#31a354',
    HAS_PHONE: '#d62728',
    HAS_ACCOUNT: '#8c564b',
    LIVES_AT: '#17becf',
    EMPLOYED_BY: '#bcbd22',
    INJURY_EMPLOYER: '#bcbd22',
    HAS_MEMBER: '#444444',
    INVOLVES: '#999999',
    CONCERNS: '#999999',
  };
  const RADIUS = {
    Ring: 11, Institution: 10, Pharmacy: 9, Doctor: 8, Patient: 6.5, Claim: 3.5, InjuryCase: 5,
  };
  const DEFAULT_COLOUR = '#555555';

  function colourOf(label) { return LABEL_COLOURS[label] || DEFAULT_COLOUR; }
  function edgeColourOf(type) { return EDGE_COLOURS[type] || DEFAULT_COLOUR; }
  function radiusOf(label) { return RADIUS[label] || 5.5; }

  // Deterministic jitter: the same graph gives the same picture on every load.
  function hash(text) {
    let h = 2166136261;
    for (let i = 0; i < text.length; i += 1) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return (h >>> 0) / 4294967296;
  }

  function layout(nodes, edges, options) {
    const ticks = options.ticks;
    const fixedWeight = options.fixedWeight; // how much already-placed nodes resist moving
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const links = [];
    const degree = new Map();
    for (const e of edges) {
      const s = byId.get(e.source);
      const t = byId.get(e.target);
      if (!s || !t || s === t) continue;
      links.push([s, t]);
      degree.set(s.id, (degree.get(s.id) || 0) + 1);
      degree.set(t.id, (degree.get(t.id) || 0) + 1);
    }
    for (const n of nodes) { n.vx = 0; n.vy = 0; }
    const n = nodes.length;
    let alpha = options.alpha;
    const alphaMin = 0.001;
    const alphaDecay = 1 - Math.pow(alphaMin, 1 / Math.max(ticks, 1));
    const linkDistance = 45;
    const charge = -110;
    for (let tick = 0; tick < ticks && alpha > alphaMin; tick += 1) {
      for (const [s, t] of links) {
        let dx = t.x + t.vx - s.x - s.vx;
        let dy = t.y + t.vy - s.y - s.vy;
        let d = Math.sqrt(dx * dx + dy * dy) || 1e-6;
        const strength = 1 / Math.min(degree.get(s.id), degree.get(t.id));
        const k = ((d - linkDistance) / d) * alpha * strength;
        dx *= k; dy *= k;
        const ds = degree.get(s.id);
        const dt = degree.get(t.id);
        const bias = ds / (ds + dt);
        t.vx -= dx * bias; t.vy -= dy * bias;
        s.vx += dx * (1 - bias); s.vy += dy * (1 - bias);
      }
      for (let i = 0; i < n; i += 1) {
        const a = nodes[i];
        for (let j = i + 1; j < n; j += 1) {
          const b = nodes[j];
          let dx = b.x - a.x;
          let dy = b.y - a.y;
          let d2 = dx * dx + dy * dy;
          if (d2 < 1e-6) { dx = hash(a.id + b.id) - 0.5; dy = hash(b.id + a.id) - 0.5; d2 = dx * dx + dy * dy; }
          if (d2 > 250000) continue; // far apart: negligible, and skipping keeps big pictures fast
          const f = (charge * alpha) / Math.max(d2, 25);
          a.vx += dx * f; a.vy += dy * f;
          b.vx -= dx * f; b.vy -= dy * f;
        }
      }
      for (const node of nodes) {
        // nodes without links in the picture would be pushed to the rim by repulsion alone
        const gravity = degree.has(node.id) ? 0.01 : 0.12;
        node.vx -= node.x * gravity * alpha;
        node.vy -= node.y * gravity * alpha;
        const damp = node.placed ? 1 - fixedWeight : 1;
        node.vx *= 0.6; node.vy *= 0.6; // velocity decay, as in d3-force
        node.x += node.vx * damp;
        node.y += node.vy * damp;
      }
      alpha += (0 - alpha) * alphaDecay;
    }
    for (const node of nodes) node.placed = true;
  }

  class NetworkView {
    constructor(svg, handlers) {
      this.svg = svg;
      // The HTML parser puts <svg> in the SVG namespace; children must be created in the same one.
      this.ns = svg.namespaceURI;
      this.viewport = svg.querySelector('#viewport');
      this.edgeLayer = svg.querySelector('#edges');
      this.nodeLayer = svg.querySelector('#nodes');
      this.handlers = handlers;
      this.nodes = new Map();
      this.edges = new Map();
      this.highlightRing = null;
      this.selectedId = null;
      this.view = { x: -400, y: -300, w: 800, h: 600 };
      this.installPanZoom();
    }

    clear() {
      this.nodes.clear();
      this.edges.clear();
      this.selectedId = null;
      this.render();
    }

    /* Merge nodes and edges; `anchorId` is where new nodes appear (the expanded node). */
    merge(subgraph, anchorId) {
      const anchor = anchorId ? this.nodes.get(anchorId) : null;
      const fresh = [];
      for (const raw of subgraph.nodes) {
        const old = this.nodes.get(raw.id);
        if (old) {
          Object.assign(old, raw);
          continue;
        }
        const node = Object.assign({}, raw);
        const angle = hash(raw.id) * Math.PI * 2;
        const spread = anchor ? 30 : 200;
        node.x = (anchor ? anchor.x : 0) + Math.cos(angle) * spread * (0.3 + hash(raw.id + 'r'));
        node.y = (anchor ? anchor.y : 0) + Math.sin(angle) * spread * (0.3 + hash(raw.id + 'r'));
        node.placed = false;
        this.nodes.set(node.id, node);
        fresh.push(node);
      }
      for (const e of subgraph.edges) this.edges.set(e.id, e);
      const all = Array.from(this.nodes.values());
      const first = !anchor;
      layout(all, Array.from(this.edges.values()), {
        ticks: first ? 300 : 160,
        alpha: first ? 1 : 0.6,
        fixedWeight: first ? 0 : 0.85,
      });
      this.render();
      if (first || fresh.length) this.fit();
      return fresh.length;
    }

    setRing(ringId) {
      this.highlightRing = ringId;
      this.render();
    }

    select(id) {
      this.selectedId = id;
      this.render();
    }

    isRingMember(node) {
      return Boolean(this.highlightRing && node.ringIds && node.ringIds.includes(this.highlightRing));
    }

    render() {
      const ns = this.ns;
      this.edgeLayer.replaceChildren();
      this.nodeLayer.replaceChildren();
      let edgeCount = 0;
      for (const e of this.edges.values()) {
        const s = this.nodes.get(e.source);
        const t = this.nodes.get(e.target);
        if (!s || !t) continue;
        const line = document.createElementNS(ns, 'line');
        line.setAttribute('x1', s.x.toFixed(1));
        line.setAttribute('y1', s.y.toFixed(1));
        line.setAttribute('x2', t.x.toFixed(1));
        line.setAttribute('y2', t.y.toFixed(1));
        line.setAttribute('stroke', edgeColourOf(e.type));
        line.setAttribute('class', 'edge');
        line.dataset.type = e.type;
        const tip = document.createElementNS(ns, 'title');
        tip.textContent = e.type + (e.date ? ' · ' + e.date : '');
        line.appendChild(tip);
        this.edgeLayer.appendChild(line);
        edgeCount += 1;
      }
      const ordered = Array.from(this.nodes.values()).sort((a, b) => radiusOf(a.label) - radiusOf(b.label));
      for (const node of ordered) {
        const g = document.createElementNS(ns, 'g');
        g.setAttribute('class', 'node');
        g.setAttribute('transform', `translate(${node.x.toFixed(1)},${node.y.toFixed(1)})`);
        g.dataset.id = node.id;
        g.dataset.label = node.label;
        const member = this.isRingMember(node);
        if (member) {
          g.classList.add('ring-member');
          const halo = document.createElementNS(ns, 'circle');
          halo.setAttribute('r', (radiusOf(node.label) + 5).toFixed(1));
          halo.setAttribute('class', 'halo');
          g.appendChild(halo);
        }
        if (node.id === this.selectedId) g.classList.add('selected');
        if (node.cutCount > 0) g.classList.add('cut');
        const circle = document.createElementNS(ns, 'circle');
        circle.setAttribute('r', radiusOf(node.label).toFixed(1));
        circle.setAttribute('fill', colourOf(node.label));
        g.appendChild(circle);
        const tip = document.createElementNS(ns, 'title');
        tip.textContent = `${node.label}: ${node.title}` +
          (node.cutCount > 0 ? ` (${node.cutCount} more links not shown)` : '');
        g.appendChild(tip);
        if (node.label !== 'Claim') {
          const text = document.createElementNS(ns, 'text');
          text.setAttribute('x', (radiusOf(node.label) + 2).toFixed(1));
          text.setAttribute('y', '3');
          const title = String(node.title || node.key || '');
          text.textContent = title.length > 22 ? title.slice(0, 21) + '…' : title;
          g.appendChild(text);
        }
        g.addEventListener('click', (ev) => {
          ev.stopPropagation();
          this.handlers.onNodeClick(node);
        });
        this.nodeLayer.appendChild(g);
      }
      this.svg.dataset.nodes = String(this.nodes.size);
      this.svg.dataset.edges = String(edgeCount);
      this.handlers.onRender(this);
    }

    fit() {
      if (!this.nodes.size) return;
      let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
      for (const n of this.nodes.values()) {
        minX = Math.min(minX, n.x); minY = Math.min(minY, n.y);
        maxX = Math.max(maxX, n.x); maxY = Math.max(maxY, n.y);
      }
      const pad = 40;
      const labelRoom = 110; // labels are drawn to the right of their node
      const box = this.svg.getBoundingClientRect();
      const aspect = box.width > 0 && box.height > 0 ? box.width / box.height : 4 / 3;
      // never magnify more than 2x: a small ring should not be blown up to cartoon size
      const minW = box.width > 0 ? box.width / 2 : 400;
      const minH = box.height > 0 ? box.height / 2 : 300;
      let w = Math.max(maxX - minX + 2 * pad + labelRoom, minW);
      let h = Math.max(maxY - minY + 2 * pad, minH);
      if (w / h < aspect) w = h * aspect; else h = w / aspect;
      this.view = { x: (minX + maxX + labelRoom) / 2 - w / 2, y: (minY + maxY) / 2 - h / 2, w, h };
      this.applyView();
    }

    applyView() {
      const v = this.view;
      this.svg.setAttribute('viewBox', `${v.x} ${v.y} ${v.w} ${v.h}`);
      // keep labels about 10 screen pixels high when a big picture is zoomed out (within limits,
      // so that zooming in still enlarges them and a dense picture does not drown in text)
      const box = this.svg.getBoundingClientRect();
      const unitsPerPixel = box.width > 0 ? v.w / box.width : 1;
      this.nodeLayer.style.fontSize = `${Math.min(Math.max(10 * unitsPerPixel, 9), 16).toFixed(1)}px`;
    }

    installPanZoom() {
      let drag = null;
      this.svg.addEventListener('pointerdown', (ev) => {
        if (ev.target.closest && ev.target.closest('.node')) return;
        drag = { x: ev.clientX, y: ev.clientY, view: Object.assign({}, this.view) };
        this.svg.setPointerCapture(ev.pointerId);
      });
      this.svg.addEventListener('pointermove', (ev) => {
        if (!drag) return;
        const box = this.svg.getBoundingClientRect();
        const scale = drag.view.w / Math.max(box.width, 1);
        this.view.x = drag.view.x - (ev.clientX - drag.x) * scale;
        this.view.y = drag.view.y - (ev.clientY - drag.y) * scale;
        this.applyView();
      });
      const stop = () => { drag = null; };
      this.svg.addEventListener('pointerup', stop);
      this.svg.addEventListener('pointercancel', stop);
      this.svg.addEventListener('wheel', (ev) => {
        ev.preventDefault();
        const box = this.svg.getBoundingClientRect();
        const factor = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
        const px = this.view.x + ((ev.clientX - box.left) / box.width) * this.view.w;
        const py = this.view.y + ((ev.clientY - box.top) / box.height) * this.view.h;
        this.view.w *= factor; this.view.h *= factor;
        this.view.x = px - (px - this.view.x) * factor;
        this.view.y = py - (py - this.view.y) * factor;
        this.applyView();
      }, { passive: false });
    }
  }

  window.MedfraudGraph = { NetworkView, colourOf, edgeColourOf, LABEL_COLOURS, EDGE_COLOURS };
})();
