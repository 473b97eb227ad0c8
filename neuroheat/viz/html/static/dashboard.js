/* neuroheat neuron dashboard: what both pages share (window.NH). No network, no external
 * code: data files are scripts of the same folder that set window.NH_DATA[name]; every text
 * goes in through textContent. Pages: dashboard-index.js, dashboard-neuron.js. */
(function () {
  'use strict';
  var DATA = window.NH_DATA = window.NH_DATA || {};
  var NH = window.NH = { DATA: DATA, SITE: DATA.site, SVG: 'http://www.w3.org/2000/svg' };
  var pending = {};

  function load(name) {
    if (pending[name]) { return pending[name]; }
    pending[name] = new Promise(function (resolve, reject) {
      if (DATA[name] !== undefined) { resolve(DATA[name]); return; }
      var s = document.createElement('script');
      s.src = 'data/' + name + '.js';
      s.onload = function () { resolve(DATA[name]); };
      s.onerror = function () { reject(new Error('cannot load data/' + name + '.js')); };
      document.head.appendChild(s);
    });
    return pending[name];
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) { return '–'; }
    if (v === 0) { return '0'; }
    var a = Math.abs(v);
    return (a >= 10000 || a < 0.001) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
  }

  function neuronHref(layer, neuron) { return 'neuron.html#L' + layer + 'N' + neuron; }

  function neuronLink(layer, neuron, text) {
    var a = el('a', 'nh-link', text);
    a.href = neuronHref(layer, neuron);
    a.setAttribute('data-layer', String(layer));
    a.setAttribute('data-neuron', String(neuron));
    return a;
  }

  function fnv(word) {
    var h = 0x811c9dc5;
    for (var i = 0; i < word.length; i++) {
      h ^= word.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
  }

  function header(root, subtitle) {
    var head = el('header', 'nh-header');
    var SITE = NH.SITE;
    var h1 = el('h1', null, SITE.title);
    head.appendChild(h1);
    var m = SITE.meta || {};
    var bits = [SITE.layers.length + ' layers × ' + SITE.width + ' neurons',
      m.num_sentences + ' sentences', m.num_words + ' words'];
    if (m.component) { bits.push('component ' + m.component); }
    if (m.model) { bits.push(String(m.model).split('/').filter(Boolean).slice(-2).join('/')); }
    head.appendChild(el('p', 'nh-sub', subtitle || bits.join(' · ')));
    root.appendChild(head);
  }

  NH.load = load; NH.el = el; NH.fmt = fmt; NH.neuronHref = neuronHref;
  NH.neuronLink = neuronLink; NH.fnv = fnv; NH.header = header;
  NH.start = function (fn) {
    if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', fn); }
    else { fn(); }
  };
})();
