// The autograd-core playground page: every number comes from POST /api/explain
// (what `autograd-core explain --format json` prints), the graph from POST
// /api/graph as DOT, laid out here by Graphviz compiled to WebAssembly (viz-js).
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var RESERVED = [];   // the parser's function and constant names (GET /api/names)
  var state = {formula: '', values: {}, ranges: {}, order: [], mode: 'reverse', step: 0,
               doc: null, dot: null, seq: 0, busy: false, again: false, pathsWrt: null};
  var vizPromise = null;

  var num = window.AutogradCommon.num, el = window.AutogradCommon.el;   // common.js
  // a local derivative: its formula and its number, or the number alone when the formula is it
  function symbolicValue(symbolic, value) { return symbolic === value ? value : symbolic + ' = ' + value; }
  function table(headers, rows, numeric) {
    var t = el('table'), tr = el('tr');
    headers.forEach(function (h) { tr.append(el('th', {}, h)); });
    var thead = el('thead'); thead.append(tr); t.append(thead);
    var tb = el('tbody');
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (c, j) { row.append(el('td', numeric && numeric[j] ? {'class': 'num'} : {}, c)); });
      tb.append(row);
    });
    t.append(tb);
    return t;
  }

  // ------------------------------------------------------------ variables
  function guessNames(formula) {
    var names = [], re = /[A-Za-z_][A-Za-z_0-9]*/g, m;
    while ((m = re.exec(formula)) !== null) {
      var after = formula.slice(re.lastIndex).match(/^\s*(\(|=(?!=))?/)[1];
      var before = formula.slice(0, m.index);
      if (after || /[0-9.]$/.test(before) || /approximate\s*=\s*["']?$/.test(before)) { continue; }
      if (RESERVED.indexOf(m[0]) >= 0 || m[0].indexOf('__') === 0) { continue; }
      if (names.indexOf(m[0]) < 0) { names.push(m[0]); }
    }
    return names;
  }
  function setVars(names) {
    names.forEach(function (n) {
      if (!(n in state.values)) { state.values[n] = 1; }
      if (!(n in state.ranges)) {
        var v = state.values[n], span = Math.max(2, Math.abs(v) * 2);
        state.ranges[n] = [Math.min(-span, v), Math.max(span, v)];
      }
    });
    state.order = names;
    drawVars();
  }
  function drawVars() {
    var box = $('vars');
    box.replaceChildren();
    state.order.forEach(function (n) {
      var row = el('div', {'class': 'var', 'data-name': n});
      var r = state.ranges[n];
      var slider = el('input', {type: 'range', min: String(r[0]), max: String(r[1]), step: 'any',
                                'aria-label': n + ' slider', id: 'slider-' + n});
      slider.value = String(state.values[n]);
      var box2 = el('input', {type: 'number', step: 'any', 'aria-label': n + ' value', id: 'value-' + n});
      box2.value = String(state.values[n]);
      slider.addEventListener('input', function () {
        state.values[n] = parseFloat(slider.value);
        box2.value = slider.value;
        request();
      });
      slider.addEventListener('change', function () { request(true); });
      box2.addEventListener('input', function () {
        var x = parseFloat(box2.value);
        if (!isFinite(x)) { return; }
        state.values[n] = x;
        if (x < r[0] || x > r[1]) {
          r[0] = Math.min(r[0], x); r[1] = Math.max(r[1], x);
          slider.min = String(r[0]); slider.max = String(r[1]);
          lo.value = String(r[0]); hi.value = String(r[1]);
        }
        slider.value = String(x);
        request();
      });
      var range = el('div', {'class': 'range'});
      var lo = el('input', {type: 'number', step: 'any', 'aria-label': n + ' minimum'});
      var hi = el('input', {type: 'number', step: 'any', 'aria-label': n + ' maximum'});
      lo.value = String(r[0]); hi.value = String(r[1]);
      function setRange() {
        var a = parseFloat(lo.value), b = parseFloat(hi.value);
        if (isFinite(a) && isFinite(b) && a < b) {
          r[0] = a; r[1] = b; slider.min = String(a); slider.max = String(b);
          slider.value = String(state.values[n]);
        }
      }
      lo.addEventListener('change', setRange);
      hi.addEventListener('change', setRange);
      range.append('range ', lo, ' to ', hi);
      row.append(el('span', {'class': 'name'}, n), slider, box2, range);
      box.append(row);
    });
  }

  // ------------------------------------------------------------ the API
  function body(extra) {
    var values = {};
    state.order.forEach(function (n) { values[n] = state.values[n]; });
    var b = {formula: state.formula, values: values, mode: state.mode, paths: !state.pathsError};
    Object.keys(extra || {}).forEach(function (k) { b[k] = extra[k]; });
    return b;
  }
  function post(url, b) {
    return fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
                       body: JSON.stringify(b)})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, json: j}; }); });
  }
  function layoutKey() { return state.formula + '|' + state.order.join(',') + '|' + state.mode; }
  function request(relayout) {
    if (relayout) { state.relayout = true; }
    if (state.busy) { state.again = true; return; }
    state.busy = true;
    state.again = false;
    var seq = ++state.seq;
    var fixes = 0;
    function attempt() {
      var b = body();
      // while only values change, the picture keeps its layout and its numbers are rewritten
      // (a new layout takes Graphviz 0.1-0.6 s on 35-50 operations); a new layout when the
      // formula changes and when a slider is released
      var fresh = state.relayout || !graphIndex || graphIndex.key !== layoutKey() || state.mode === 'forward';
      var gb = {formula: b.formula, values: b.values};
      var graph = fresh ? post('/api/graph', gb) : Promise.resolve(null);
      return Promise.all([post('/api/explain', b), graph]).then(function (res) {
        var r = res[0], g = res[1];
        if (!r.ok) {
          var msg = r.json.error || 'error';
          var missing = /^no value given for '([A-Za-z_][A-Za-z_0-9]*)'/.exec(msg);
          var unused = /^([A-Za-z_][A-Za-z_0-9]*) is given a value but does not appear/.exec(msg);
          if (/ paths lead from /.test(msg) && !state.pathsError) {   // too many to list: the rest still works
            state.pathsError = msg;
            return attempt();
          }
          if ((missing || unused) && fixes < 64) {
            fixes += 1;
            var names = state.order.slice();
            if (missing) { names.push(missing[1]); } else { names.splice(names.indexOf(unused[1]), 1); }
            setVars(names);
            return attempt();
          }
          showError(msg, r.json.column);
          return;
        }
        if (seq !== state.seq) { return; }
        showError(null);
        state.doc = r.json;
        render();
        if (g === null) { refreshGraph(); return; }
        if (!g.ok) { return; }
        state.relayout = false;
        state.dot = g.json.dot;
        state.bins = g.json.bins;
        return drawGraph();
      });
    }
    attempt().catch(function (e) { showError('the playground server did not answer (' + e + ')'); })
      .then(function () {
        state.busy = false;
        document.body.dataset.updates = String((+document.body.dataset.updates || 0) + 1);
        if (state.again) { request(); }
      });
  }
  function showError(msg, column) {
    var box = $('error');
    $('formula').classList.toggle('bad', !!msg);
    box.hidden = !msg;
    if (!msg) { return; }
    $('error-text').textContent = msg;
    $('error-where').textContent = column ? state.formula + '\n' + ' '.repeat(column - 1) + '^' : '';
  }

  // ------------------------------------------------------------ the views
  function render() {
    var d = state.doc, out = d.output;
    $('result').textContent = out + ' = ' + num(d.value);
    $('gradients').textContent = Object.keys(d.gradients).map(function (n) {
      return '∂' + out + '/∂' + n + ' = ' + num(d.gradients[n]);
    }).join('\n');
    $('gradients').style.whiteSpace = 'pre-line';
    // forward table
    $('forward').replaceChildren(table(['node', 'computes', 'value', 'local derivatives'],
      d.forward.map(function (r) {
        return [r.name, r.expression, num(r.value), r.derivatives.map(function (l) {
          return '∂' + r.name + '/∂' + l.parent + ' = ' + symbolicValue(l.symbolic, num(l.value));
        }).join('; ')];
      }), [false, false, true, false]));
    // forward mode, side by side
    var fm = $('forward-mode');
    fm.replaceChildren();
    $('modes-box').hidden = !d.forward_mode;
    (d.forward_mode || []).forEach(function (t) {
      fm.append(el('h3', {}, 'tangents from ' + (t.input || t.wrt || '')));
      var rows = (t.rows || []).map(function (r) {
        return [r.node || r.name, num(r.tangent !== undefined ? r.tangent : r.value)];
      });
      fm.append(table(['node', 'tangent'], rows, [false, true]));
      var c = t.counts || {};
      fm.append(el('p', {}, '∂' + (t.output || '') + '/∂' + (t.input || '') + ' = ' + num(t.gradient) + '; ' +
        Object.keys(c).map(function (k) { return k.replace(/_/g, ' ') + ': ' + c[k]; }).join(', ')));
    });
    // paths for the chosen input
    var sel = $('paths-wrt'), names = (d.paths || []).map(function (p) { return p.input || p.wrt; });
    if (names.indexOf(state.pathsWrt) < 0) { state.pathsWrt = names[0] || null; }
    sel.replaceChildren();
    names.forEach(function (n) {
      var o = el('option', {value: n}, n);
      if (n === state.pathsWrt) { o.selected = true; }
      sel.append(o);
    });
    drawPaths();
    // notes: the trace's annotations (kinks, NaN/inf with the first cause), as explain prints them
    var notes = $('notes');
    notes.replaceChildren();
    Object.keys(d.annotations || {}).forEach(function (name) {
      d.annotations[name].forEach(function (note) { notes.append(el('p', {}, name + ': ' + note)); });
    });
    // the backward steps
    var n = (d.backward || []).length;
    $('steps-box').hidden = !n;
    $('step-slider').max = String(Math.max(1, n));
    state.step = Math.min(state.step, Math.max(0, n - 1));
    showStep();
  }
  function drawPaths() {
    var box = $('paths'), d = state.doc;
    box.replaceChildren();
    if (state.pathsError) { box.append(el('p', {}, state.pathsError)); }
    var ps = (d.paths || []).filter(function (p) { return (p.input || p.wrt) === state.pathsWrt; })[0];
    if (!ps) { return; }
    box.append(el('p', {'class': 'formula'}, ps.formula || ''));
    var rows = (ps.paths || []).map(function (p) {
      return [(p.nodes || []).join(' → '), p.product || '', num(p.value)];
    });
    box.append(table(['path', 'product of local derivatives', 'value'], rows, [false, false, true]));
    if (ps.total !== undefined) { box.append(el('p', {}, 'sum = ' + num(ps.total))); }
  }
  function showStep() {
    var d = state.doc, steps = d.backward || [], k = state.step, out = d.output;
    $('step-slider').value = String(k + 1);
    $('step-counter').textContent = steps.length ? 'step ' + (k + 1) + ' / ' + steps.length : '';
    $('step-prev').disabled = k <= 0;
    $('step-next').disabled = k >= steps.length - 1;
    var panel = $('step-panel');
    panel.replaceChildren();
    if (!steps.length) { highlight(null); return; }
    var s = steps[k];
    var h = el('p', {}, 'node ');
    h.append(el('span', {'class': 'node'}, s.node), ': upstream ∂' + out + '/∂' + s.node + ' = ' + num(s.upstream));
    panel.append(h);
    s.contributions.forEach(function (c) {
      panel.append(el('p', {}, '∂' + out + '/∂' + c.parent + ' += ∂' + s.node + '/∂' + c.parent + ' × ∂' +
        out + '/∂' + s.node + ' = (' + symbolicValue(c.symbolic, num(c.local)) + ') × ' + num(c.upstream) +
        ' = ' + num(c.contribution) + '  →  ' + num(c.accumulated)));
    });
    highlight(s.node);
  }
  function highlight(name) {
    var svg = $('graph').querySelector('svg');
    if (!svg || !state.doc) { return; }
    svg.querySelectorAll('.current, .active').forEach(function (g) { g.classList.remove('current', 'active'); });
    var i = -1;
    state.doc.forward.forEach(function (r, j) { if (r.name === name) { i = j; } });
    if (i < 0) { return; }
    svg.querySelectorAll('g.node, g.edge').forEach(function (g) {
      var t = g.querySelector('title');
      if (!t) { return; }
      var title = t.textContent;
      if (title === 'v' + i) { g.classList.add('current'); }
      if (g.classList.contains('edge') && (/->o(\d+)$/.exec(title) || [])[1] === String(i)) { g.classList.add('active'); }
    });
  }
  function drawGraph() {
    if (!state.dot) { return; }
    if (!window.Viz) { $('graph').textContent = 'graph drawing unavailable (viz-global.js not loaded)'; return; }
    vizPromise = vizPromise || window.Viz.instance();
    var dot = state.dot, key = layoutKey();
    return vizPromise.then(function (viz) {
      if (dot !== state.dot) { return; }
      var svg = viz.renderSVGElement(dot);
      var rows = state.doc.forward;
      svg.querySelectorAll('g.node').forEach(function (g) {   // what practice mode hides
        var t = g.querySelector('title'), m = t && /^v(\d+)$/.exec(t.textContent);
        if (m && rows[+m[1]] && !rows[+m[1]].inputs.length) { g.setAttribute('data-given', '1'); }
        g.querySelectorAll('text').forEach(function (x) {
          if ((x.textContent || '').indexOf('grad ') === 0) { x.classList.add('ag-grad'); }
        });
      });
      $('graph').replaceChildren(svg);
      graphIndex = indexGraph(svg, key);
      highlight(((state.doc.backward || [])[state.step] || {}).node || null);
    });
  }

  // ------------------------------------------------------------ numbers rewritten in place
  var graphIndex = null;
  // visualize.fmt_number: 4 significant digits, exponent below 1e-4 and from 1e4 on
  function fmt(x) {
    if (typeof x === 'string') { return x; }
    if (x === 0) { return '0'; }
    var e = x.toExponential(3), m = /^(-?[\d.]+)e([-+]\d+)$/.exec(e), p = parseInt(m[2], 10);
    if (p < -4 || p >= 4) {
      var mant = m[1].indexOf('.') >= 0 ? m[1].replace(/0+$/, '').replace(/\.$/, '') : m[1];
      return mant + 'e' + (p < 0 ? '-' : '') + String(Math.abs(p));
    }
    var f = x.toFixed(Math.max(0, 3 - p));
    return f.indexOf('.') >= 0 ? f.replace(/0+$/, '').replace(/\.$/, '') : f;
  }
  // visualize.grad_color, with the colour bins the server sends (visualize.GRAD_BINS)
  function gradColor(g) {
    var bins = state.bins, a = typeof g === 'string' ? NaN : Math.abs(g);
    if (!bins) { return null; }
    if (!isFinite(a)) { return bins[bins.length - 1]; }
    if (a === 0) { return bins[0]; }
    for (var i = 1; i < bins.length - 1; i++) { if (a < bins[i][0]) { return bins[i]; } }
    return bins[bins.length - 2];
  }
  function centre(t) {   // HTML-label rows are left-anchored: keep them centred as they change
    if (t.getAttribute('text-anchor') === 'start') {
      t.setAttribute('x', String(parseFloat(t.getAttribute('x')) + t.getComputedTextLength() / 2));
      t.setAttribute('text-anchor', 'middle');
    }
  }
  function indexGraph(svg, key) {
    var nodes = {}, edges = {};
    svg.querySelectorAll('g.node').forEach(function (g) {
      var t = g.querySelector('title'), m = t && /^v(\d+)$/.exec(t.textContent);
      if (!m) { return; }
      var n = {g: g, data: null, grad: null, texts: g.querySelectorAll('text'),
               shape: g.querySelector('polygon, path, ellipse')};
      n.texts.forEach(function (x) {
        var s = x.textContent || '';
        if (s.indexOf('data ') === 0) { n.data = x; centre(x); }
        if (s.indexOf('grad ') === 0) { n.grad = x; centre(x); }
      });
      nodes[m[1]] = n;
    });
    var rows = state.doc.forward;
    svg.querySelectorAll('g.edge').forEach(function (g) {   // operand edges: source -> op oval
      var t = g.querySelector('title'), m = t && /^v(\d+)->o(\d+)$/.exec(t.textContent);
      if (!m || !rows[+m[1]] || !rows[+m[2]]) { return; }
      var e = edges[m[2]] = edges[m[2]] || [], src = rows[+m[1]].name;
      var k = rows[+m[2]].inputs.findIndex(function (n, j) { return n === src && !e[j]; });
      if (k >= 0) { e[k] = g.querySelector('text') || false; }
    });
    return {key: key, nodes: nodes, edges: edges};
  }
  function refreshGraph() {
    var d = state.doc, ix = graphIndex;
    if (!ix || !d.adjoints) { return; }
    d.forward.forEach(function (r, i) {
      var n = ix.nodes[i];
      if (n) {
        if (n.data) { n.data.textContent = 'data ' + fmt(r.value); }
        var g = d.adjoints[r.name], c = gradColor(g);
        if (n.grad) { n.grad.textContent = 'grad ' + fmt(g); }
        if (c && n.shape) {
          n.shape.setAttribute('fill', c[1]);
          n.texts.forEach(function (x) { x.setAttribute('fill', c[2]); });
        }
      }
      (ix.edges[i] || []).forEach(function (t, k) {
        var l = r.derivatives[k];
        if (!t || !l) { return; }
        var v = fmt(l.value), plain = /^-?[\d.]+(e-?\d+)?$/.test(l.symbolic);
        t.textContent = plain ? v : symbolicValue(l.symbolic, v);
      });
    });
    highlight(((d.backward || [])[state.step] || {}).node || null);
  }

  // ------------------------------------------------------------ exports
  function download(blob, name) {
    var a = el('a', {href: URL.createObjectURL(blob), download: name});
    document.body.append(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  function svgText() {
    var svg = $('graph').querySelector('svg');
    return svg ? new XMLSerializer().serializeToString(svg) : null;
  }
  function showText(text) {
    var t = $('export-text');
    t.hidden = false;
    t.value = text;
    t.select();
  }
  function latex() {   // Trace.to_latex, as `explain --format latex` prints it
    post('/api/latex', body({mode: 'reverse'})).then(function (r) {
      showText(r.ok ? r.json.latex : 'LaTeX: ' + (r.json.error || 'error'));
    });
  }
  function link() {
    var parts = ['f=' + encodeURIComponent(state.formula)];
    state.order.forEach(function (n) { parts.push(encodeURIComponent(n) + '=' + state.values[n]); });
    if (state.mode !== 'reverse') { parts.push('mode=' + state.mode); }
    return location.origin + location.pathname + '#' + parts.join('&');
  }
  function readHash() {
    var h = location.hash.replace(/^#/, '');
    if (!h) { return false; }
    var names = [];
    h.split('&').forEach(function (kv) {
      var i = kv.indexOf('='), k = decodeURIComponent(kv.slice(0, i)), v = decodeURIComponent(kv.slice(i + 1));
      if (k === 'f') { state.formula = v; }
      else if (k === 'mode') { state.mode = v; }
      else if (/^[A-Za-z_][A-Za-z_0-9]*$/.test(k) && isFinite(parseFloat(v))) {
        state.values[k] = parseFloat(v); names.push(k);
      }
    });
    return names;
  }

  // ------------------------------------------------------------ practice
  function startPractice() {
    if (!state.doc || !state.doc.backward) {
      state.mode = 'reverse'; $('mode').value = 'reverse';
    }
    document.body.classList.add('practising');
    $('practice-start').hidden = true;
    $('practice-stop').hidden = false;
    window.AutogradPractice.start($('practice'), state.doc, {
      onDone: function () { document.body.classList.remove('practising'); },
      onStep: function (k) { state.step = k; showStep(); }   // the picture follows the step asked about
    });
  }
  function stopPractice() {
    document.body.classList.remove('practising');
    $('practice-start').hidden = false;
    $('practice-stop').hidden = true;
    $('practice').replaceChildren();
  }

  // ------------------------------------------------------------ wiring
  function formulaChanged() {
    state.formula = $('formula').value;
    state.pathsError = null;
    setVars(guessNames(state.formula));
    stopPractice();
    request();
  }
  var timer = null;
  $('formula').addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(formulaChanged, 150);
  });
  $('formula-form').addEventListener('submit', function (e) { e.preventDefault(); formulaChanged(); });
  $('mode').addEventListener('change', function () { state.mode = $('mode').value; request(); });
  $('paths-wrt').addEventListener('change', function () { state.pathsWrt = $('paths-wrt').value; drawPaths(); });
  $('step-prev').addEventListener('click', function () { state.step -= 1; showStep(); });
  $('step-next').addEventListener('click', function () { state.step += 1; showStep(); });
  $('step-slider').addEventListener('input', function () { state.step = parseInt($('step-slider').value, 10) - 1; showStep(); });
  $('export-svg').addEventListener('click', function () {
    var s = svgText(); if (s) { download(new Blob([s], {type: 'image/svg+xml'}), 'graph.svg'); }
  });
  $('export-png').addEventListener('click', function () {
    var s = svgText(); if (!s) { return; }
    var img = new Image();
    img.onload = function () {
      var c = el('canvas'); c.width = img.width * 2; c.height = img.height * 2;
      var ctx = c.getContext('2d'); ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, c.width, c.height);
      ctx.drawImage(img, 0, 0, c.width, c.height);
      c.toBlob(function (b) { download(b, 'graph.png'); });
    };
    img.src = URL.createObjectURL(new Blob([s], {type: 'image/svg+xml'}));
  });
  $('export-latex').addEventListener('click', function () { if (state.doc) { latex(); } });
  $('export-link').addEventListener('click', function () { showText(link()); });
  $('export-html').addEventListener('click', function () {
    fetch('/api/stepper', {method: 'POST', headers: {'Content-Type': 'application/json'},
                           body: JSON.stringify(body({paths: false}))})
      .then(function (r) { return r.ok ? r.blob() : null; })
      .then(function (b) { if (b) { download(b, 'autograd-steps.html'); } });
  });
  $('practice-start').addEventListener('click', startPractice);
  $('practice-stop').addEventListener('click', stopPractice);
  fetch('/api/examples').then(function (r) { return r.json(); }).then(function (list) {
    var sel = $('examples');
    list.forEach(function (ex, i) { sel.append(el('option', {value: String(i), title: ex.source}, ex.title)); });
    sel.addEventListener('change', function () {
      var ex = list[parseInt(sel.value, 10)];
      if (!ex) { return; }
      state.values = {}; state.ranges = {};
      Object.keys(ex.values).forEach(function (k) { state.values[k] = ex.values[k]; });
      $('formula').value = ex.formula;
      formulaChanged();
    });
  });
  var fromHash = readHash();
  if (fromHash) {
    $('formula').value = state.formula;
    $('mode').value = state.mode;
  }
  state.formula = $('formula').value;
  fetch('/api/names').then(function (r) { return r.json(); }).then(function (names) {
    RESERVED = names.functions.concat(names.constants);
  }).catch(function () {}).then(function () {   // without the list the server's errors still fix the guess
    setVars(guessNames(state.formula));
    request();
  });
})();
