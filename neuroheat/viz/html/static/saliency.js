/* neuroheat interactive saliency view. Self-contained: no network, no external code.
 * Reads its data from a <script type="application/json"> inside each .nh-saliency root,
 * builds the token elements once (text via textContent only), and recolours them in place.
 * Heat values are uint16 fixed point v = floor(h * 24576), so the palette index of
 * textualheatmap, floor(h * 96), is exactly v >> 8. */
(function () {
  'use strict';
  var SCALE = 24576, LEVELS = 96, DIV_LEVELS = 64, MIN_TITLE_PX = 6;

  function decode(b64) {
    var bin = atob(b64), n = bin.length >> 1, out = new Uint16Array(n);
    for (var i = 0; i < n; i++) {
      out[i] = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    }
    return out;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  /* A facet title breaks only between words: shrink its font until the longest word fits
     the column (rotated: until its lines fit along the facet's height and across the column). */
  function fitTitle(span, rotated) {
    var box = span.parentNode, along, across;
    along = rotated ? box.clientHeight : box.clientWidth;
    across = rotated ? box.clientWidth : box.clientHeight;
    if (!along || !across) { return; }  /* not displayed: nothing to measure */
    if (rotated) { span.style.width = along + 'px'; }
    var fs = parseFloat(window.getComputedStyle(span).fontSize) || 14;
    for (var n = 0; n < 40 && fs > MIN_TITLE_PX; n++) {
      var wide = span.scrollWidth > span.clientWidth + 0.5;
      var tall = rotated && span.offsetHeight > across + 0.5;  /* unrotated: the row grows */
      if (!wide && !tall) { break; }
      fs = Math.max(MIN_TITLE_PX, fs * 0.92);
      span.style.fontSize = fs + 'px';
    }
  }

  function Viewer(root, data) {
    var self = this, s = data.settings;
    this.root = root; this.data = data; this.k = data.k;
    this.focusIndex = null; this.pinned = null; this.compareWith = null;
    this.facets = [];
    this.pending = null;
    root.style.width = s.width + 'px';
    data.facets.forEach(function (fd, fi) {
      var f = { rows: decode(fd.rows), rowOf: fd.rowOf, meta: fd.meta, tokens: [], last: [] };
      var box = el('div', 'nh-facet' + (s.showMeta ? '' : ' nh-hide-meta') +
                   (s.rotateFacetTitles ? ' nh-rotate' : ''));
      f.meta_el = el('div', 'nh-meta');
      f.meta_el.appendChild(el('div', 'nh-meta-item'));
      var content = el('div', 'nh-tokens');
      content.setAttribute('dir', s.direction);
      var j = 0;
      fd.items.forEach(function (item) {
        if (item[1]) {
          content.appendChild(el('span', 'nh-fmt', item[0]));
          return;
        }
        var span = el('span', 'nh-tok', item[0]);
        span.setAttribute('data-facet', String(fi));
        span.setAttribute('data-index', String(j));
        f.tokens.push(span); f.last.push(-1);
        content.appendChild(span);
        j++;
      });
      var title = el('div', 'nh-facet-title');
      f.title = el('span', '', fd.title);
      title.appendChild(f.title);
      box.appendChild(f.meta_el); box.appendChild(content); box.appendChild(title);
      root.appendChild(box);
      if (s.interactive) {
        content.addEventListener('mouseover', function (ev) { self.onHover(ev); });
        content.addEventListener('click', function (ev) { self.onClick(ev); });
        content.addEventListener('mousedown', function (ev) {
          if (ev.shiftKey) { ev.preventDefault(); }  /* no text selection on shift-click */
        });
      }
      self.facets.push(f);
    });
    this.facets.forEach(function (f) { fitTitle(f.title, s.rotateFacetTitles); });
    this.status = el('div', 'nh-status');
    root.appendChild(this.status);
    if (s.interactive) {
      root.addEventListener('keydown', function (ev) { self.onKey(ev); });
    }
    var noscript = root.querySelector('.nh-noscript');
    if (noscript) { noscript.parentNode.removeChild(noscript); }
    if (s.compare) { this.compare(s.compare[0], s.compare[1]); }
    else if (s.focus !== null) { this.focus(s.focus); }
    else { this.showStatus(); }
  }

  Viewer.prototype.indexOf = function (ev) {
    var t = ev.target && ev.target.closest ? ev.target.closest('.nh-tok') : null;
    return t && this.root.contains(t) ? parseInt(t.getAttribute('data-index'), 10) : null;
  };

  Viewer.prototype.isTarget = function (i) {
    return this.facets.some(function (f) { return f.rowOf[i] >= 0; });
  };

  Viewer.prototype.onHover = function (ev) {
    var i = this.indexOf(ev), self = this;
    if (i === null || this.pinned !== null || this.compareWith !== null || !this.isTarget(i)) {
      return;
    }
    if (this.pending === null) {
      var raf = window.requestAnimationFrame || function (fn) { return setTimeout(fn, 0); };
      raf(function () { var j = self.pending; self.pending = null; self.focus(j); });
    }
    this.pending = i;
  };

  Viewer.prototype.onClick = function (ev) {
    var i = this.indexOf(ev);
    if (i === null || !this.isTarget(i)) { return; }
    var base = this.pinned !== null ? this.pinned : this.focusIndex;
    if (ev.shiftKey && base !== null && base !== i) {
      this.compare(base, i);
    } else if (this.pinned === i && this.compareWith === null) {
      this.pinned = null; this.focus(i);
    } else {
      this.pin(i);
    }
  };

  Viewer.prototype.onKey = function (ev) {
    if (ev.key === 'Escape') { this.reset(); return; }
    if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') { return; }
    var step = ev.key === 'ArrowRight' ? 1 : -1, i = this.focusIndex === null ? -1 : this.focusIndex;
    for (var n = 0; n < this.k; n++) {
      i = (i + step + this.k) % this.k;
      if (this.isTarget(i)) { break; }
    }
    if (this.pinned !== null) { this.pin(i); } else { this.focus(i); }
    ev.preventDefault();
  };

  Viewer.prototype.clearMarks = function () {
    this.facets.forEach(function (f) {
      f.tokens.forEach(function (t) {
        t.classList.remove('nh-focus', 'nh-pinned', 'nh-mark-a', 'nh-mark-b');
      });
    });
  };

  Viewer.prototype.row = function (f, i) {
    var r = f.rowOf[i];
    return r < 0 ? null : f.rows.subarray(r * this.k, (r + 1) * this.k);
  };

  /* Focus token i: every facet recolours to i's row; the meta rows show i's predictions. */
  Viewer.prototype.focus = function (i) {
    var self = this, pal = this.data.palette;
    if (this.compareWith !== null) { this.leaveCompare(); }
    if (this.focusIndex !== null) {
      this.facets.forEach(function (f) { f.tokens[self.focusIndex].classList.remove('nh-focus'); });
    }
    this.focusIndex = i;
    this.facets.forEach(function (f) {
      var row = self.row(f, i);
      for (var j = 0; j < self.k; j++) {
        var c = row === null ? 0 : Math.min(LEVELS, row[j] >> 8);
        if (f.last[j] !== c) {
          f.last[j] = c;
          f.tokens[j].style.backgroundColor = pal[c];
        }
      }
      f.tokens[i].classList.add('nh-focus');
      self.setMeta(f, [f.meta[i]], ['']);
    });
    this.showStatus();
  };

  Viewer.prototype.pin = function (i) {
    var self = this;
    if (this.compareWith !== null) { this.leaveCompare(); }
    if (this.pinned !== null) {
      this.facets.forEach(function (f) { f.tokens[self.pinned].classList.remove('nh-pinned'); });
    }
    this.pinned = null;
    this.focus(i);
    this.pinned = i;
    this.facets.forEach(function (f) { f.tokens[i].classList.add('nh-pinned'); });
    this.showStatus();
  };

  /* Diverging comparison: colour d = heat_a - heat_b (orange: A stronger, purple: B). */
  Viewer.prototype.compare = function (a, b) {
    var self = this, div = this.data.diverging, divText = this.data.divText;
    this.clearMarks();
    this.focusIndex = a; this.pinned = a; this.compareWith = b;
    this.root.classList.add('nh-comparing');
    this.facets.forEach(function (f) {
      var ra = self.row(f, a), rb = self.row(f, b);
      for (var j = 0; j < self.k; j++) {
        var va = ra === null ? 0 : ra[j], vb = rb === null ? 0 : rb[j];
        var d = (va - vb) / SCALE;
        var c = Math.floor((d + 1) / 2 * DIV_LEVELS + 0.5);
        f.last[j] = -2;
        f.tokens[j].style.backgroundColor = div[c];
        f.tokens[j].style.color = divText[c];
      }
      f.tokens[a].classList.add('nh-mark-a');
      f.tokens[b].classList.add('nh-mark-b');
      var ta = f.tokens[a].textContent, tb = f.tokens[b].textContent;
      self.setMeta(f, [f.meta[a], f.meta[b]], ['A \u00b7 ' + ta + ': ', 'B \u00b7 ' + tb + ': ']);
    });
    this.showStatus();
  };

  Viewer.prototype.leaveCompare = function () {
    this.root.classList.remove('nh-comparing');
    this.compareWith = null;
    this.clearMarks();
    this.facets.forEach(function (f) {
      f.tokens.forEach(function (t, j) { t.style.color = ''; f.last[j] = -2; });
    });
  };

  Viewer.prototype.reset = function () {
    var keep = this.focusIndex;
    if (this.compareWith !== null) { this.leaveCompare(); }
    this.pinned = null;
    this.clearMarks();
    if (keep !== null) { this.focus(keep); }
  };

  Viewer.prototype.setMeta = function (f, lists, prefixes) {
    if (!this.data.settings.showMeta) { return; }
    var box = f.meta_el;
    while (box.firstChild) { box.removeChild(box.firstChild); }
    if (lists.length > 1) {
      lists.forEach(function (items, k) {
        box.appendChild(el('div', 'nh-meta-item', prefixes[k] + (items.join(', ') || '\u2013')));
      });
      return;
    }
    var items = lists[0] || [];
    if (!items.length) { box.appendChild(el('div', 'nh-meta-item')); }
    items.forEach(function (m) { box.appendChild(el('div', 'nh-meta-item', m)); });
  };

  Viewer.prototype.showStatus = function () {
    var st = this.status, d = this.data;
    while (st.firstChild) { st.removeChild(st.firstChild); }
    if (!d.settings.interactive) { return; }
    var toks = this.facets[0].tokens;
    if (this.compareWith !== null) {
      var bar = el('span', 'nh-legend-bar');
      bar.style.background = 'linear-gradient(to right,' + d.diverging.join(',') + ')';
      st.appendChild(el('span', '', 'B \u00b7 ' + toks[this.compareWith].textContent + ' stronger'));
      st.appendChild(bar);
      st.appendChild(el('span', '', 'A \u00b7 ' + toks[this.pinned].textContent + ' stronger'));
      st.appendChild(el('span', '', '(Esc or click: leave)'));
      return;
    }
    var text = this.pinned !== null ? 'pinned: ' + toks[this.pinned].textContent +
      ' (click it again to unpin; shift-click another token to compare)' :
      'hover a token; click to pin; shift-click a second token to compare';
    st.appendChild(el('span', '', text));
  };

  Viewer.prototype.state = function () {
    return { focus: this.focusIndex, pinned: this.pinned, compare: this.compareWith };
  };

  function setupAll() {
    var roots = document.querySelectorAll('.nh-saliency[data-nh-pending]');
    for (var i = 0; i < roots.length; i++) {
      var root = roots[i];
      root.removeAttribute('data-nh-pending');
      var src = root.querySelector('script.nh-saliency-data');
      if (!src) { continue; }
      root.nhSaliency = new Viewer(root, JSON.parse(src.textContent));
    }
  }
  setupAll();
})();
