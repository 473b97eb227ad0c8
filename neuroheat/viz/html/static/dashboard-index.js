/* neuroheat dashboard: the index page (every neuron, virtual scrolling, sort, filters, search). */
(function () {
  'use strict';
  var NH = window.NH, DATA = NH.DATA, SITE = NH.SITE, load = NH.load, el = NH.el, fmt = NH.fmt;
  var neuronLink = NH.neuronLink, header = NH.header;
  var fnv = NH.fnv;
  var ROW_H = 28;

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
    [['layer', 'layer, neuron'], ['sel', 'selectivity'], ['mean', 'mean'], ['std', 'std'],
      ['word', 'top word (A–Z)']]
      .forEach(function (o) { self.sortSel.appendChild(new Option(o[1], o[0])); });
    this.asc = el('input');
    this.asc.type = 'checkbox'; this.asc.id = 'nh-asc';
    labelled('ascending', this.asc);
    this.wordFilter = labelled('Top word', el('input'));
    this.wordFilter.type = 'text'; this.wordFilter.id = 'nh-filter';
    this.wordFilter.placeholder = 'filter by top word';
    this.fcol = labelled('Keep', el('select'));
    this.fcol.id = 'nh-fcol';
    [['sel', 'selectivity'], ['mean', 'mean'], ['std', 'std']]
      .forEach(function (o) { self.fcol.appendChild(new Option(o[1], o[0])); });
    this.fmin = labelled('from', el('input'));
    this.fmin.type = 'number'; this.fmin.step = 'any'; this.fmin.id = 'nh-fmin';
    this.fmax = labelled('to', el('input'));
    this.fmax.type = 'number'; this.fmax.step = 'any'; this.fmax.id = 'nh-fmax';
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
    [this.layerSel, this.sortSel, this.asc, this.fcol].forEach(function (c) {
      c.addEventListener('change', function () { self.update(); });
    });
    var timer = null;
    [this.wordFilter, this.fmin, this.fmax].forEach(function (c) {
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
    var col = this.fcol.value;
    var lo = this.fmin.value === '' ? null : Number(this.fmin.value);
    var hi = this.fmax.value === '' ? null : Number(this.fmax.value);
    idsP.then(function (ids) {
      if (self.asc.checked) { ids.reverse(); }
      if (!word && lo === null && hi === null) { return ids; }
      return Promise.all(layers.map(function (L) { return load('layer-' + L); })).then(function () {
        return ids.filter(function (id) {
          var d = DATA['layer-' + SITE.layers[Math.floor(id / W)]], n = id % W;
          if (lo !== null && !(d[col][n] >= lo)) { return false; }
          if (hi !== null && !(d[col][n] <= hi)) { return false; }
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
    var wanted = [load('search-' + (fnv(word) % SITE.buckets))];
    if (SITE.explanations) { wanted.push(load('explanations')); }
    Promise.all(wanted).then(function (got) {
      if (self.search.value.trim() !== word) { return; }
      self.results.textContent = '';
      self.results.setAttribute('data-word', word);
      var found = got[0];
      var hits = Object.prototype.hasOwnProperty.call(found, word) ? found[word] : null;
      if (!hits) {
        self.results.appendChild(el('p', 'nh-none', 'no neuron: this word does not occur in the corpus (words match exactly)'));
      } else {
        self.results.appendChild(el('p', 'nh-sub', 'Top ' + hits.length + ' neurons for this word (NeuroX score, as word_neurons ranks them):'));
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
      }
      if (got.length > 1) { self.explained(word, got[1]); }
    });
  };

  // neurons whose explanation contains the query (case-insensitive), best detection score first
  IndexPage.prototype.explained = function (word, all) {
    var q = word.toLowerCase();
    var found = all.filter(function (e) { return String(e[2]).toLowerCase().indexOf(q) >= 0; });
    found.sort(function (a, b) { return (b[3] === null ? -1 : b[3]) - (a[3] === null ? -1 : a[3]) || a[0] - b[0] || a[1] - b[1]; });
    this.results.appendChild(el('p', 'nh-sub', found.length + ' neurons whose explanation mentions “' + word + '”' + (found.length > 50 ? ' (first 50)' : '') + ':'));
    var list = el('ol', 'nh-hits');
    list.setAttribute('data-role', 'explanation-hits');
    found.slice(0, 50).forEach(function (e) {
      var li = el('li');
      var a = neuronLink(e[0], e[1], 'layer ' + e[0] + ' · neuron ' + e[1]);
      a.setAttribute('data-score', e[3] === null ? '' : String(e[3]));
      li.appendChild(a);
      var text = el('span', 'nh-explanation', ' ' + e[2]);
      text.setAttribute('dir', 'auto');
      li.appendChild(text);
      list.appendChild(li);
    });
    this.results.appendChild(list);
  };

  NH.start(function () {
    if (document.body.getAttribute('data-page') !== 'index') { return; }
    var root = el('main', 'nh-dash');
    document.body.appendChild(root);
    if (!SITE) { root.textContent = 'data/site.js is missing'; return; }
    window.NH_INDEX = new IndexPage(root);
  });
})();
