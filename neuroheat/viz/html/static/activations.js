/* neuroheat interactive activation view. Self-contained: no network, no external code.
 * Data from a <script type="application/json"> in each .nh-acts root; text via textContent. */
(function () {
  'use strict';

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function fmt(v) {
    if (v === 0) { return '0'; }
    var a = Math.abs(v);
    return (a >= 1000 || a < 0.001) ? v.toExponential(3) : v.toPrecision(4);
  }

  function Viewer(root, data) {
    var self = this;
    this.root = root; this.data = data; this.words = []; this.items = [];
    this.current = -1; this.hovered = null;
    root.style.width = data.width + 'px';
    var list = el('ol', 'nh-neurons');
    list.setAttribute('role', 'listbox');
    data.labels.forEach(function (label, n) {
      var li = el('li', 'nh-neuron');
      li.setAttribute('role', 'option');
      li.setAttribute('data-neuron', String(n));
      li.appendChild(el('span', 'nh-neuron-label', label));
      if (data.descriptions[n]) { li.appendChild(el('span', 'nh-neuron-desc', data.descriptions[n])); }
      li.addEventListener('click', function () { self.show(n); });
      list.appendChild(li);
      self.items.push(li);
    });
    var right = el('div', 'nh-main');
    var text = el('div', 'nh-text');
    text.setAttribute('dir', data.direction);
    data.sentences.forEach(function (words, s) {
      var p = el('div', 'nh-sentence');
      words.forEach(function (w, i) {
        if (i) { p.appendChild(document.createTextNode(' ')); }
        var span = el('span', 'nh-word', w);
        span.setAttribute('data-sentence', String(s));
        span.setAttribute('data-index', String(i));
        p.appendChild(span);
        self.words.push({ span: span, s: s, i: i });
      });
      text.appendChild(p);
    });
    this.readout = el('div', 'nh-readout');
    right.appendChild(text); right.appendChild(this.readout);
    root.appendChild(list); root.appendChild(right);
    text.addEventListener('mouseover', function (ev) {
      var t = ev.target.closest ? ev.target.closest('.nh-word') : null;
      if (t) { self.hover(t); }
    });
    root.addEventListener('keydown', function (ev) {
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        var n = self.data.labels.length;
        self.show((self.current + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n);
        ev.preventDefault();
      }
    });
    var noscript = root.querySelector('.nh-noscript');
    if (noscript) { noscript.parentNode.removeChild(noscript); }
    this.show(data.neuron);
  }

  /* NeuroX colours: colors[0] below 0, colors[1] above, opacity 1 - (1 - |a|/limit)^darken. */
  Viewer.prototype.color = function (v, limit) {
    if (v === 0 || limit === 0) { return ''; }
    var o = Math.min(Math.abs(v) / limit, 1), op = 1 - Math.pow(1 - o, this.data.darken);
    var c = this.data.colors[v > 0 ? 1 : 0];
    return 'rgba(' + c[0] + ',' + c[1] + ',' + c[2] + ',' + op.toFixed(4) + ')';
  };

  Viewer.prototype.show = function (n) {
    var self = this, limit = this.data.limits[n];
    if (this.current >= 0) { this.items[this.current].classList.remove('nh-active'); }
    this.current = n;
    this.items[n].classList.add('nh-active');
    this.items[n].setAttribute('aria-selected', 'true');
    this.words.forEach(function (w) {
      w.span.style.backgroundColor = self.color(self.data.values[w.s][n][w.i], limit);
    });
    if (this.hovered) { this.hover(this.hovered); } else { this.readout.textContent = this.data.labels[n] + ': hover a word to read its activation'; }
  };

  Viewer.prototype.hover = function (span) {
    if (this.hovered) { this.hovered.classList.remove('nh-hover'); }
    this.hovered = span;
    span.classList.add('nh-hover');
    var s = +span.getAttribute('data-sentence'), i = +span.getAttribute('data-index');
    var v = this.data.values[s][this.current][i];
    this.readout.textContent = span.textContent + ' \u2192 ' + fmt(v) + '   (' +
      this.data.labels[this.current] + ', max |a| ' + fmt(this.data.limits[this.current]) + ')';
  };

  Viewer.prototype.state = function () {
    return { neuron: this.current, hovered: this.hovered ? this.hovered.textContent : null,
             readout: this.readout.textContent };
  };

  var roots = document.querySelectorAll('.nh-acts[data-nh-pending]');
  for (var k = 0; k < roots.length; k++) {
    var root = roots[k];
    root.removeAttribute('data-nh-pending');
    var src = root.querySelector('script.nh-acts-data');
    if (src) { root.nhActs = new Viewer(root, JSON.parse(src.textContent)); }
  }
})();
