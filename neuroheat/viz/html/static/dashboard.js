/* neuroheat neuron dashboard (index.html and neuron.html). No network, no external code:
 * data files are scripts of the same folder that set window.NH_DATA[name]; every text goes
 * in through textContent. Layers and neuron blocks load on demand. */
(function () {
  'use strict';
  var DATA = window.NH_DATA = window.NH_DATA || {};
  var SITE = DATA.site;
  var ROW_H = 28;
  var pending = {};
  var SVG = 'http://www.w3.org/2000/svg';

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

  /* ---------------------------------------------------------------- index page */
  function IndexPage(root) {
    var self = this;
    this.view = [];
    header(root);
    var controls = el('div', 'nh-controls');
    function labelled(text, input) {
      var l = el('label', null, text + ' ');
      l.appendChild(input);
      controls.appendChild(l);
      return input;
    }
    this.layerSel = labelled('Layer', el('select'));
    this.layerSel.id = 'nh-layer';
    this.layerSel.appendChild(new Option('all', 'all'));
    SITE.layers.forEach(function (L) { self.layerSel.appendChild(new Option(String(L), String(L))); });
    this.sortSel = labelled('Sort by', el('select'));
    this.sortSel.id = 'nh-sort';
    [['layer', 'layer, neuron'], ['sel', 'selectivity'], ['mean', 'mean'], ['std', 'std']]
      .forEach(function (o) { self.sortSel.appendChild(new Option(o[1], o[0])); });
    this.asc = el('input');
    this.asc.type = 'checkbox'; this.asc.id = 'nh-asc';
    labelled('ascending', this.asc);
    this.wordFilter = labelled('Top word', el('input'));
    this.wordFilter.type = 'text'; this.wordFilter.id = 'nh-filter';
    this.wordFilter.placeholder = 'filter by top word';
    this.minSel = labelled('Min selectivity', el('input'));
    this.minSel.type = 'number'; this.minSel.step = '0.05'; this.minSel.id = 'nh-minsel';
    this.search = el('input');
    this.search.type = 'search'; this.search.id = 'nh-search';
    this.search.placeholder = 'a word: the neurons it scores highest for';
    labelled('Search', this.search);
    root.appendChild(controls);
    this.results = el('div', 'nh-results');
    this.results.setAttribute('data-role', 'search-results');
    root.appendChild(this.results);
    this.count = el('p', 'nh-count');
    root.appendChild(this.count);
    var cols = el('div', 'nh-row nh-colhead');
    ['layer', 'neuron', 'selectivity', 'mean', 'std', 'top words'].forEach(function (c) {
      cols.appendChild(el('span', 'nh-c', c));
    });
    root.appendChild(cols);
    this.scroller = el('div', 'nh-scroller');
    this.scroller.setAttribute('data-role', 'neuron-list');
    this.spacer = el('div', 'nh-spacer');
    this.rows = el('div', 'nh-rows');
    this.spacer.appendChild(this.rows);
    this.scroller.appendChild(this.spacer);
    root.appendChild(this.scroller);
    this.scroller.addEventListener('scroll', function () { self.render(); });
    window.addEventListener('resize', function () { self.render(); });
    [this.layerSel, this.sortSel, this.asc].forEach(function (c) {
      c.addEventListener('change', function () { self.update(); });
    });
    var timer = null;
    [this.wordFilter, this.minSel].forEach(function (c) {
      c.addEventListener('input', function () {
        clearTimeout(timer); timer = setTimeout(function () { self.update(); }, 150);
      });
    });
    var stimer = null;
    this.search.addEventListener('input', function () {
      clearTimeout(stimer); stimer = setTimeout(function () { self.doSearch(); }, 120);
    });
    this.search.addEventListener('search', function () { self.doSearch(); });
    this.update();
  }

  IndexPage.prototype.layersShown = function () {
    var v = this.layerSel.value;
    return v === 'all' ? SITE.layers.slice() : [Number(v)];
  };

  IndexPage.prototype.update = function () {
    var self = this, W = SITE.width, layers = this.layersShown();
    var key = this.sortSel.value, token = {};
    this.token = token;
    var idsP;
    if (key === 'layer') {
      var ids = [];
      layers.forEach(function (L) {
        var li = SITE.layers.indexOf(L);
        for (var n = 0; n < W; n++) { ids.push(li * W + n); }
      });
      idsP = Promise.resolve(ids);
    } else {
      idsP = load('order-' + key).then(function (order) {
        if (layers.length === SITE.layers.length) { return order.slice(); }
        var keep = {};
        layers.forEach(function (L) { keep[SITE.layers.indexOf(L)] = true; });
        return order.filter(function (id) { return keep[Math.floor(id / W)]; });
      });
    }
    var word = this.wordFilter.value.trim().toLowerCase();
    var minSel = this.minSel.value === '' ? null : Number(this.minSel.value);
    idsP.then(function (ids) {
      if (self.asc.checked) { ids.reverse(); }
      if (!word && minSel === null) { return ids; }
      return Promise.all(layers.map(function (L) { return load('layer-' + L); })).then(function () {
        return ids.filter(function (id) {
          var d = DATA['layer-' + SITE.layers[Math.floor(id / W)]], n = id % W;
          if (minSel !== null && !(d.sel[n] >= minSel)) { return false; }
          if (word && !d.words[n].some(function (w) { return w.toLowerCase().indexOf(word) >= 0; })) {
            return false;
          }
          return true;
        });
      });
    }).then(function (ids) {
      if (self.token !== token) { return; }
      self.view = ids;
      self.count.textContent = ids.length + ' neurons';
      self.spacer.style.height = (ids.length * ROW_H) + 'px';
      self.scroller.scrollTop = 0;
      self.render();
    });
  };

  IndexPage.prototype.render = function () {
    var self = this, W = SITE.width;
    var top = this.scroller.scrollTop, h = this.scroller.clientHeight || 600;
    var first = Math.max(0, Math.floor(top / ROW_H) - 5);
    var last = Math.min(this.view.length, Math.ceil((top + h) / ROW_H) + 5);
    this.rows.style.transform = 'translateY(' + (first * ROW_H) + 'px)';
    this.rows.textContent = '';
    var missing = {};
    for (var i = first; i < last; i++) {
      var id = this.view[i], L = SITE.layers[Math.floor(id / W)], n = id % W;
      var row = neuronLink(L, n);
      row.className = 'nh-row';
      var d = DATA['layer-' + L];
      row.appendChild(el('span', 'nh-c', L));
      row.appendChild(el('span', 'nh-c', n));
      if (d) {
        row.appendChild(el('span', 'nh-c', fmt(d.sel[n])));
        row.appendChild(el('span', 'nh-c', fmt(d.mean[n])));
        row.appendChild(el('span', 'nh-c', fmt(d.std[n])));
        var ws = el('span', 'nh-c nh-words');
        d.words[n].forEach(function (w) {
          var s = el('span', 'nh-word', w);
          s.setAttribute('dir', 'auto');
          ws.appendChild(s);
        });
        row.appendChild(ws);
      } else {
        row.appendChild(el('span', 'nh-c nh-wait', '…'));
        missing[L] = true;
      }
      this.rows.appendChild(row);
    }
    Object.keys(missing).forEach(function (L) {
      load('layer-' + L).then(function () { self.render(); });
    });
  };

  IndexPage.prototype.doSearch = function () {
    var self = this, word = this.search.value.trim();
    this.results.textContent = '';
    this.results.removeAttribute('data-word');
    if (!word) { return; }
    load('search-' + (fnv(word) % SITE.buckets)).then(function (found) {
      if (self.search.value.trim() !== word) { return; }
      self.results.textContent = '';
      self.results.setAttribute('data-word', word);
      var hits = Object.prototype.hasOwnProperty.call(found, word) ? found[word] : null;
      if (!hits) {
        self.results.appendChild(el('p', 'nh-none', 'no neuron: this word does not occur in the corpus (words match exactly)'));
        return;
      }
      self.results.appendChild(el('p', 'nh-sub', 'Top ' + hits.length + ' neurons for this word (NeuroX score, as top_neurons ranks them):'));
      var list = el('ol', 'nh-hits');
      hits.forEach(function (h) {
        var li = el('li');
        var a = neuronLink(h[0], h[1], 'layer ' + h[0] + ' · neuron ' + h[1]);
        a.setAttribute('data-score', String(h[2]));
        li.appendChild(a);
        li.appendChild(el('span', 'nh-score', ' ' + h[2].toFixed(3)));
        list.appendChild(li);
      });
      self.results.appendChild(list);
    });
  };

  /* ---------------------------------------------------------------- neuron page */
  var LEVELS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  function level(ch) { return (LEVELS.indexOf(ch) - 31) / 31; }  /* -1 .. 1 of the scale */

  function colour(level) {
    var a = Math.min(1, Math.abs(level));
    return level >= 0 ? 'rgba(0,170,212,' + a + ')' : 'rgba(211,95,95,' + a + ')';
  }

  function contextNode(c, vocab, scale) {
    var div = el('div', 'nh-ctx');
    div.setAttribute('dir', 'auto');
    div.setAttribute('data-sentence', String(c.s));
    div.setAttribute('data-position', String(c.p));
    div.setAttribute('data-value', String(c.v));
    var val = el('span', 'nh-val', fmt(c.v));
    val.setAttribute('dir', 'ltr');
    var text = el('span', 'nh-text');
    text.setAttribute('dir', 'auto');
    c.w.forEach(function (id, i) {
      if (i) { text.appendChild(document.createTextNode(' ')); }
      var s = el('span', 'nh-tok', vocab[id]);
      var lv = level(c.a.charAt(i));
      s.style.backgroundColor = colour(lv);
      s.title = '≈ ' + fmt(lv * scale);
      if (i === c.o) { s.className = 'nh-tok nh-peak'; }
      text.appendChild(s);
    });
    div.appendChild(val);
    div.appendChild(text);
    return div;
  }

  function section(root, title, role) {
    var sec = el('section', 'nh-section');
    sec.appendChild(el('h2', null, title));
    var body = el('div', 'nh-body');
    if (role) { body.setAttribute('data-role', role); }
    sec.appendChild(body);
    root.appendChild(sec);
    return body;
  }

  function histogram(h) {
    var Wd = 480, Ht = 120, pad = 18;
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + Wd + ' ' + (Ht + pad));
    svg.setAttribute('width', String(Wd));
    svg.setAttribute('height', String(Ht + pad));
    var max = Math.max.apply(null, h.counts.concat([1]));
    var bw = Wd / h.counts.length;
    h.counts.forEach(function (c, i) {
      var r = document.createElementNS(SVG, 'rect');
      var bh = c ? Math.max(1, Ht * Math.sqrt(c / max)) : 0;
      var mid = h.lo + (i + 0.5) * (h.hi - h.lo) / h.counts.length;
      r.setAttribute('x', String(i * bw)); r.setAttribute('width', String(Math.max(1, bw - 1)));
      r.setAttribute('y', String(Ht - bh)); r.setAttribute('height', String(bh));
      r.setAttribute('fill', mid >= 0 ? '#00aad4' : '#d35f5f');
      r.setAttribute('data-count', String(c));
      var t = document.createElementNS(SVG, 'title');
      t.textContent = c + ' values near ' + fmt(mid);
      r.appendChild(t);
      svg.appendChild(r);
    });
    [[h.lo, 'start', 0], [h.hi, 'end', Wd]].forEach(function (e) {
      var t = document.createElementNS(SVG, 'text');
      t.setAttribute('x', String(e[2])); t.setAttribute('y', String(Ht + pad - 4));
      t.setAttribute('text-anchor', e[1]); t.setAttribute('font-size', '11');
      t.textContent = fmt(e[0]);
      svg.appendChild(t);
    });
    return svg;
  }

  function tokenList(items, role) {
    var ol = el('ol', 'nh-tokens');
    if (role) { ol.setAttribute('data-role', role); }
    items.forEach(function (t) {
      var li = el('li');
      var w = el('span', 'nh-word', t[0]);
      w.setAttribute('dir', 'auto');
      li.appendChild(w);
      li.appendChild(el('span', 'nh-score', ' ' + fmt(t[1])));
      ol.appendChild(li);
    });
    return ol;
  }

  function NeuronPage(root) {
    this.root = root;
    var self = this;
    window.addEventListener('hashchange', function () { self.show(); });
    this.show();
  }

  NeuronPage.prototype.show = function () {
    var root = this.root;
    root.textContent = '';
    var m = /^#L(-?\d+)N(\d+)$/.exec(location.hash);
    var L = m ? Number(m[1]) : SITE.layers[0], n = m ? Number(m[2]) : 0;
    if (SITE.layers.indexOf(L) < 0 || n >= SITE.width) {
      header(root, 'no such neuron');
      root.appendChild(el('p', 'nh-none', 'This site has layers ' + SITE.layers.join(', ') +
        ' and neurons 0..' + (SITE.width - 1) + '; the address is neuron.html#L{layer}N{neuron}.'));
      return;
    }
    var block = Math.floor(n / SITE.block);
    load('n-' + L + '-' + block).then(function (d) {
      root.textContent = '';
      render(root, d.neurons[n - block * SITE.block], d.vocab);
    });
  };

  function nav(root, L, n) {
    var li = SITE.layers.indexOf(L), bar = el('nav', 'nh-nav');
    var home = el('a', 'nh-link', '← all neurons');
    home.href = 'index.html';
    bar.appendChild(home);
    if (n > 0) { bar.appendChild(neuronLink(L, n - 1, '‹ neuron ' + (n - 1))); }
    if (n + 1 < SITE.width) { bar.appendChild(neuronLink(L, n + 1, 'neuron ' + (n + 1) + ' ›')); }
    if (li > 0) { bar.appendChild(neuronLink(SITE.layers[li - 1], n, '↑ layer ' + SITE.layers[li - 1])); }
    if (li + 1 < SITE.layers.length) { bar.appendChild(neuronLink(SITE.layers[li + 1], n, '↓ layer ' + SITE.layers[li + 1])); }
    bar.setAttribute('data-role', 'neighbours');
    root.appendChild(bar);
  }

  function render(root, d, vocab, single) {
    if (!single) { nav(root, d.layer, d.neuron); }
    header(root, 'Layer ' + d.layer + ' · neuron ' + d.neuron);
    var stats = section(root, 'Statistics', 'stats');
    var dl = el('dl', 'nh-stats');
    [['count', d.stats.count], ['mean', d.stats.mean], ['std', d.stats.std],
      ['min', d.stats.min], ['max', d.stats.max], ['selectivity', d.sel]].forEach(function (s) {
      var dt = el('dt', null, s[0]), dd = el('dd', null, fmt(s[1]));
      dd.setAttribute('data-stat', s[0]);
      dd.setAttribute('data-value', String(s[1]));
      dl.appendChild(dt); dl.appendChild(dd);
    });
    stats.appendChild(dl);
    var hist = section(root, 'Activation histogram (bar height: square root of the count)', 'histogram');
    if (d.hist) { hist.appendChild(histogram(d.hist)); }
    var words = section(root, 'Top words (NeuroX score)', 'top-words');
    if (!d.words.length) { words.appendChild(el('p', 'nh-none', 'none: the neuron does not vary')); }
    d.words.forEach(function (w) {
      var item = el('span', 'nh-topword');
      item.setAttribute('data-word', w[0]);
      item.setAttribute('data-score', String(w[1]));
      var word = el('span', 'nh-word', w[0]);
      word.setAttribute('dir', 'auto');
      item.appendChild(word);
      item.appendChild(el('span', 'nh-score', fmt(w[1])));
      words.appendChild(item);
    });
    var topc = section(root, 'Top contexts (±' + SITE.window + ' words, peak outlined)', 'top-contexts');
    d.top.forEach(function (c) { topc.appendChild(contextNode(c, vocab, d.scale)); });
    var botc = section(root, 'Bottom contexts', 'bottom-contexts');
    d.bottom.forEach(function (c) { botc.appendChild(contextNode(c, vocab, d.scale)); });
    var q = section(root, 'Quantile samples (' + d.quantiles + ' bands, highest first)', 'quantiles');
    d.bands.slice().reverse().forEach(function (b) {
      var band = el('div', 'nh-band');
      band.setAttribute('data-lo', String(b.lo)); band.setAttribute('data-hi', String(b.hi));
      band.appendChild(el('h3', null, fmt(b.lo) + ' … ' + fmt(b.hi) + ' (' + b.samples.length + ')'));
      b.samples.forEach(function (c) { band.appendChild(contextNode(c, vocab, d.scale)); });
      q.appendChild(band);
    });
    if (d.probe) {
      var p = section(root, 'Probe weights per class', 'probe');
      p.appendChild(tokenList(Object.keys(d.probe).map(function (k) { return [k, d.probe[k]]; })));
    }
    if (d.out) {
      var o = section(root, 'Output tokens (' + d.out.what + ')', 'output-tokens');
      o.appendChild(el('h3', null, 'promotes'));
      o.appendChild(tokenList(d.out.promote, 'promotes'));
      o.appendChild(el('h3', null, 'suppresses'));
      o.appendChild(tokenList(d.out.suppress, 'suppresses'));
    }
  }

  function startReports(roots) {
    Array.prototype.forEach.call(roots, function (r) {
      if (r.getAttribute('data-done')) { return; }
      r.setAttribute('data-done', '1');
      var d = JSON.parse(r.querySelector('script.nh-report-data').textContent);
      SITE = d.site;
      var root = el('div', 'nh-dash');
      r.appendChild(root);
      render(root, d.neuron, d.vocab, true);
    });
  }

  function start() {
    var reports = document.querySelectorAll('.nh-report');
    if (reports.length) { startReports(reports); return; }
    var root = el('main', 'nh-dash');
    document.body.appendChild(root);
    if (!SITE) { root.textContent = 'data/site.js is missing'; return; }
    if (document.body.getAttribute('data-page') === 'neuron') { new NeuronPage(root); }
    else { window.NH_INDEX = new IndexPage(root); }
  }

  window.NH = { load: load, fnv: fnv };
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); }
  else { start(); }
})();
