/* neuroheat dashboard: one neuron's page (neuron.html#L{layer}N{neuron}, or an inlined report). */
(function () {
  'use strict';
  var NH = window.NH, DATA = NH.DATA, SITE = NH.SITE, load = NH.load, el = NH.el, fmt = NH.fmt;
  var neuronLink = NH.neuronLink, header = NH.header;
  var SVG = NH.SVG;

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
      if (i && SITE.meta.units !== 'tokens') { text.appendChild(document.createTextNode(' ')); }
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
    if (d.explain) {
      var ex = section(root, 'Explanation', 'explanation');
      ex.setAttribute('data-score', d.explain.score === null ? '' : String(d.explain.score));
      ex.appendChild(el('p', 'nh-explanation', d.explain.text === null ? 'none: explaining this neuron failed' : d.explain.text));
      var sdl = el('dl', 'nh-stats');
      Object.keys(d.explain.scores || {}).sort().forEach(function (scorer) {
        var s = d.explain.scores[scorer] || {};
        Object.keys(s).sort().forEach(function (metric) {
          var dd = el('dd', null, fmt(s[metric]));
          dd.setAttribute('data-scorer', scorer);
          dd.setAttribute('data-metric', metric);
          dd.setAttribute('data-value', String(s[metric]));
          sdl.appendChild(el('dt', null, scorer + ' ' + metric.replace(/_/g, ' ')));
          sdl.appendChild(dd);
        });
      });
      ex.appendChild(sdl);
    }
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
    if (d.effects) {
      var e = section(root, 'Ablation effects (' + d.effects.method + ' ablation)', 'effects');
      e.appendChild(el('p', null, 'delta_ce ' + fmt(d.effects.delta_ce) + ' nats, kl ' +
        fmt(d.effects.kl) + ' nats, delta_entropy ' + fmt(d.effects.delta_entropy)));
      e.appendChild(el('h3', null, 'promoted'));
      e.appendChild(tokenList(d.effects.top_promoted, 'effects-promoted'));
      e.appendChild(el('h3', null, 'suppressed'));
      e.appendChild(tokenList(d.effects.top_suppressed, 'effects-suppressed'));
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
      SITE = NH.SITE = d.site;
      var root = el('div', 'nh-dash');
      r.appendChild(root);
      render(root, d.neuron, d.vocab, true);
    });
  }

  NH.start(function () {
    var reports = document.querySelectorAll('.nh-report');
    if (reports.length) { startReports(reports); return; }
    if (document.body.getAttribute('data-page') !== 'neuron') { return; }
    var root = el('main', 'nh-dash');
    document.body.appendChild(root);
    if (!SITE) { root.textContent = 'data/site.js is missing'; return; }
    new NeuronPage(root);
  });
})();
