/* The network picture: cytoscape.js with the fCoSE force-directed layout, served from this server.
 *
 * What the investigator relies on: an expansion places the new nodes around the node they came
 * from and leaves every other node where it was (the old nodes are locked while the new ones are
 * laid out), so the mental map survives a growing picture; ring members carry a gold halo; hubs
 * whose relationships the server capped have a dashed outline. Added over the old hand-written
 * renderer: box selection, hiding a label, a choice of layout, and PNG/SVG export.
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
  const SIZE = { Ring: 22, Institution: 20, Pharmacy: 18, Doctor: 16, Patient: 13, Claim: 7, InjuryCase: 10 };
  const DEFAULT_COLOUR = '#555555';
  const LAYOUTS = ['fcose', 'concentric', 'breadthfirst', 'circle', 'grid'];

  function colourOf(label) { return LABEL_COLOURS[label] || DEFAULT_COLOUR; }
  function edgeColourOf(type) { return EDGE_COLOURS[type] || DEFAULT_COLOUR; }
  function sizeOf(label) { return SIZE[label] || 11; }

  // the extensions register themselves when they find a global cytoscape; register only what is missing
  const cytoscape = window.cytoscape;
  if (!cytoscape('layout', 'fcose') && window.cytoscapeFcose) cytoscape.use(window.cytoscapeFcose);
  if (!cytoscape('core', 'svg') && window.cytoscapeSvg) cytoscape.use(window.cytoscapeSvg);

  const STYLE = [
    {
      selector: 'node',
      style: {
        'background-color': 'data(colour)',
        width: 'data(size)',
        height: 'data(size)',
        label: 'data(caption)',
        'font-size': 9,
        color: '#27313b',
        'text-valign': 'bottom',
        'text-margin-y': 2,
        'text-outline-color': '#fbfbfc',
        'text-outline-width': 2,
        'border-color': '#ffffff',
        'border-width': 1,
        'min-zoomed-font-size': 6,
      },
    },
    { selector: 'node[label = "Claim"]', style: { label: '' } },
    { selector: 'node.cut', style: { 'border-style': 'dashed', 'border-color': '#333', 'border-width': 2 } },
    { selector: 'node.ring-member', style: { 'border-color': '#f2b705', 'border-width': 4 } },
    { selector: 'node:selected', style: { 'border-color': '#111', 'border-width': 3, 'overlay-opacity': 0.08 } },
    {
      selector: 'edge',
      style: {
        width: 1.2,
        'line-color': 'data(colour)',
        opacity: 0.75,
        'curve-style': 'haystack',
      },
    },
    { selector: 'edge:selected', style: { width: 2.5, opacity: 1 } },
  ];

  function layoutOptions(name, animate) {
    const base = { name, animate: false, fit: true, padding: 30 };
    if (name === 'fcose') {
      return Object.assign(base, {
        quality: 'default', randomize: true, animate, animationDuration: 400,
        nodeRepulsion: 6500, idealEdgeLength: 60, nodeSeparation: 60, numIter: 2500,
      });
    }
    if (name === 'concentric') {
      return Object.assign(base, { concentric: (n) => n.degree(), levelWidth: () => 2, minNodeSpacing: 8 });
    }
    if (name === 'breadthfirst') return Object.assign(base, { spacingFactor: 0.9 });
    return base;
  }

  class NetworkView {
    constructor(container, options) {
      this.container = container;
      this.options = options || {};
      this.nodes = new Map(); // id -> node as the server sent it
      this.highlightRing = null;
      this.layoutName = 'fcose';
      this.hiddenLabels = new Set();
      this.cy = cytoscape({
        container,
        style: STYLE,
        boxSelectionEnabled: true,
        selectionType: 'additive',
        minZoom: 0.05,
        maxZoom: 6,
      });
      this.cy.on('tap', 'node', (ev) => {
        const node = this.nodes.get(ev.target.id());
        if (node && this.options.onNodeClick) this.options.onNodeClick(node);
      });
      this.cy.on('select unselect', () => {
        if (this.options.onSelect) this.options.onSelect(this.selectedIds());
      });
      this.updateCounts();
    }

    updateCounts() {
      this.container.dataset.nodes = String(this.cy.nodes().length);
      this.container.dataset.edges = String(this.cy.edges().length);
      this.container.dataset.layout = this.layoutName;
    }

    clear() {
      this.cy.elements().remove();
      this.nodes.clear();
      this.updateCounts();
      if (this.options.onRender) this.options.onRender(this);
    }

    setRing(ringId) { this.highlightRing = ringId; }

    elementFor(node) {
      const member = this.highlightRing && (node.ringIds || []).includes(this.highlightRing);
      const classes = [member ? 'ring-member' : '', node.cutCount > 0 ? 'cut' : ''].filter(Boolean);
      return {
        group: 'nodes',
        data: {
          id: node.id, label: node.label, caption: node.title || node.key,
          colour: colourOf(node.label), size: sizeOf(node.label),
        },
        classes,
      };
    }

    /* Merge a subgraph; with `originId` the new nodes are laid out around it and nothing else moves. */
    merge(subgraph, originId) {
      const cy = this.cy;
      const added = [];
      cy.startBatch();
      for (const node of subgraph.nodes) {
        const known = this.nodes.has(node.id);
        this.nodes.set(node.id, node);
        const el = cy.getElementById(node.id);
        if (known && el.nonempty()) {
          el.data('caption', node.title || node.key);
          el.toggleClass('cut', node.cutCount > 0);
          el.toggleClass('ring-member', !!this.highlightRing && (node.ringIds || []).includes(this.highlightRing));
          continue;
        }
        added.push(this.elementFor(node));
      }
      const origin = originId ? cy.getElementById(originId) : null;
      const start = origin && origin.nonempty() ? origin.position() : { x: 0, y: 0 };
      added.forEach((el, i) => {
        const angle = (2 * Math.PI * i) / Math.max(added.length, 1);
        el.position = { x: start.x + 40 * Math.cos(angle), y: start.y + 40 * Math.sin(angle) };
      });
      const newNodes = cy.add(added);
      const edges = [];
      for (const e of subgraph.edges) {
        if (cy.getElementById(e.id).nonempty()) continue;
        if (cy.getElementById(e.source).empty() || cy.getElementById(e.target).empty()) continue;
        edges.push({ group: 'edges', data: { id: e.id, source: e.source, target: e.target, type: e.type,
          date: e.date, colour: edgeColourOf(e.type) } });
      }
      cy.add(edges);
      this.applyHidden();
      cy.endBatch();
      if (origin && origin.nonempty() && newNodes.nonempty()) {
        this.layoutAround(origin, newNodes);
      } else {
        this.relayout(false);
      }
      this.updateCounts();
      if (this.options.onRender) this.options.onRender(this);
      return newNodes.length;
    }

    layoutAround(origin, newNodes) {
      const cy = this.cy;
      const old = cy.nodes().difference(newNodes);
      old.lock();
      const part = newNodes.union(origin).union(newNodes.connectedEdges());
      part.layout({
        name: 'fcose', randomize: false, animate: false, fit: false, quality: 'default',
        nodeRepulsion: 4500, idealEdgeLength: 50, numIter: 1200,
        fixedNodeConstraint: [{ nodeId: origin.id(), position: { x: origin.position('x'), y: origin.position('y') } }],
      }).run();
      old.unlock();
    }

    relayout(animate) {
      if (this.cy.nodes().empty()) return;
      this.cy.layout(layoutOptions(this.layoutName, !!animate)).run();
      this.limitZoom();
    }

    // a small picture fitted to the whole canvas would blow its captions up; keep it at reading size
    limitZoom() {
      if (this.cy.zoom() > 1.6) {
        this.cy.zoom(1.6);
        this.cy.center();
      }
    }

    setLayout(name) {
      if (!LAYOUTS.includes(name)) return;
      this.layoutName = name;
      this.relayout(false);
      this.updateCounts();
    }

    select(id) {
      this.cy.$(':selected').unselect();
      if (id) this.cy.getElementById(id).select();
    }

    selectedIds() { return this.cy.nodes(':selected').map((n) => n.id()); }

    setBoxSelect(on) {
      // with panning on, a box needs a modifier key; the toolbar's box mode makes a plain drag select
      this.cy.userPanningEnabled(!on);
      this.container.dataset.boxSelect = on ? 'on' : 'off';
    }

    setLabelHidden(label, hidden) {
      if (hidden) this.hiddenLabels.add(label); else this.hiddenLabels.delete(label);
      this.applyHidden();
      if (this.options.onRender) this.options.onRender(this);
    }

    applyHidden() {
      this.cy.nodes().forEach((n) => {
        n.style('display', this.hiddenLabels.has(n.data('label')) ? 'none' : 'element');
      });
      this.container.dataset.visibleNodes = String(this.cy.nodes(':visible').length);
    }

    labels() { return Array.from(new Set(this.cy.nodes().map((n) => n.data('label')))).sort(); }

    edgeTypes() { return Array.from(new Set(this.cy.edges().map((e) => e.data('type')))).sort(); }

    fit() {
      this.cy.fit(undefined, 30);
      this.limitZoom();
    }

    pngDataUrl() { return this.cy.png({ full: true, bg: '#ffffff', scale: 2 }); }

    svgText() { return this.cy.svg({ full: true, bg: '#ffffff' }); }
  }

  window.MedfraudGraph = { NetworkView, colourOf, edgeColourOf, LAYOUTS };
})();
