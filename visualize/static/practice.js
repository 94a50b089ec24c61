// Practice mode of autograd-core: the learner computes the chain rule and is graded.
// Used by the playground page and by visualize.write_stepper(..., practice=True),
// after common.js.
// Input: the explain JSON ({forward: [...], backward: [...], output}) as
// `autograd-core explain --format json` prints it. Every number and every
// formula shown comes from it (the local derivatives are the primitive table's
// symbolic rules, as explain prints them); nothing here knows a derivative.
'use strict';
(function (global) {
  // |answer - expected| <= TOL * max(1, |expected|)
  var TOL = 1e-3;
  var TOLERANCE_TEXT = 'within 0.1% (or ±0.001 for numbers smaller than 1)';
  var NUM = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?';
  var ANSWER = new RegExp('^\\s*(' + NUM + ')\\s*(?:/\\s*(' + NUM + ')\\s*)?$');

  var num = global.AutogradCommon.num, el = global.AutogradCommon.el;   // common.js
  function value(x) {
    if (x === 'nan') { return NaN; }
    if (x === 'inf') { return Infinity; }
    if (x === '-inf') { return -Infinity; }
    return x;
  }
  // a typed answer as a number: 0.25, -1/4, 1e-3, nan, inf; null when unreadable
  function parseAnswer(text) {
    var t = String(text).trim().toLowerCase().replace(/\u2212/g, '-');
    if (t === 'nan') { return NaN; }
    if (t === 'inf' || t === '+inf' || t === 'infinity') { return Infinity; }
    if (t === '-inf' || t === '-infinity') { return -Infinity; }
    var m = ANSWER.exec(t);
    if (!m) { return null; }
    var a = parseFloat(m[1]);
    if (m[2] === undefined) { return a; }
    var b = parseFloat(m[2]);
    return b === 0 ? null : a / b;
  }
  function close(answer, expected) {
    if (isNaN(expected)) { return isNaN(answer); }
    if (!isFinite(expected)) { return answer === expected; }
    if (!isFinite(answer)) { return false; }
    return Math.abs(answer - expected) <= TOL * Math.max(1, Math.abs(expected));
  }

  // the questions, in the order a person computes them
  function questions(doc) {
    var rows = {}, qs = [], out = doc.output;
    doc.forward.forEach(function (r) { rows[r.name] = r; });
    function values(names) {
      return names.filter(function (n, i) { return names.indexOf(n) === i; })
        .map(function (n) { return n + ' = ' + num(rows[n].value); }).join(', ');
    }
    doc.forward.forEach(function (r) {
      if (!r.inputs.length) { return; }
      qs.push({kind: 'forward', node: r.name,
               prompt: 'Forward: ' + r.name + ' = ' + r.expression + ' = ?',
               expected: value(r.value),
               hint: r.name + ' = ' + r.expression + '; ' + values(r.inputs)});
    });
    var uses = {};   // node -> [{user, local, upstream, symbolic}] from the steps before it
    (doc.backward || []).forEach(function (s, k) {
      var r = rows[s.node];
      if (k > 0) {
        var parts = (uses[s.node] || []).map(function (u) {
          return '∂' + u.user + '/∂' + s.node + ' × ∂' + out + '/∂' + u.user;
        });
        var nums = (uses[s.node] || []).map(function (u) {
          return '∂' + u.user + '/∂' + s.node + ' = ' + num(u.local) + ', ∂' + out + '/∂' + u.user +
                 ' = ' + num(u.upstream);
        });
        qs.push({kind: 'upstream', node: s.node,
                 prompt: 'Backward: upstream gradient ∂' + out + '/∂' + s.node + ' = ?',
                 expected: value(s.upstream),
                 hint: '∂' + out + '/∂' + s.node + ' = ' + (parts.join(' + ') || '0') +
                       ' (one term per use of ' + s.node + '); ' + nums.join('; ')});
      }
      s.contributions.forEach(function (c) {
        qs.push({kind: 'local', node: s.node, parent: c.parent,
                 prompt: 'Backward: local derivative ∂' + s.node + '/∂' + c.parent +
                         ' (' + s.node + ' = ' + r.expression + ') = ?',
                 expected: value(c.local),
                 hint: '∂(' + r.expression + ')/∂' + c.parent + ' = ' + c.symbolic + '; ' +
                       values(r.inputs)});
        (uses[c.parent] = uses[c.parent] || []).push(
          {user: s.node, local: c.local, upstream: c.upstream, symbolic: c.symbolic});
      });
    });
    return qs;
  }

  // Start practising `doc` in `box`. opts.onDone(score) when finished;
  // opts.onStep(k) when a backward question is shown: k is the index in
  // doc.backward of the step it belongs to (the picture shows that step).
  function start(box, doc, opts) {
    opts = opts || {};
    var qs = questions(doc), i = 0, right = 0, firstTry = 0, tries = 0, wrong = 0;
    var stepOf = {};
    (doc.backward || []).forEach(function (s, k) { stepOf[s.node] = k; });
    box.replaceChildren();
    box.classList.add('ag-practice');
    var head = el('p', {'class': 'ag-rules'},
      'Compute each value in order: the forward values, then, in backward order, each upstream ' +
      'gradient and each local derivative. Answers are checked ' + TOLERANCE_TEXT +
      '; fractions such as -1/4 are fine.');
    var prompt = el('p', {'class': 'ag-prompt', 'id': 'ag-prompt'});
    var form = el('form', {'class': 'ag-form'});
    var input = el('input', {'id': 'ag-answer', 'type': 'text', 'autocomplete': 'off',
                             'inputmode': 'decimal', 'aria-label': 'your answer'});
    var check = el('button', {'id': 'ag-check', 'type': 'submit'}, 'Check');
    var reveal = el('button', {'id': 'ag-reveal', 'type': 'button'}, 'Show answer');
    form.append(input, check, reveal);
    var feedback = el('p', {'class': 'ag-feedback', 'id': 'ag-feedback', 'aria-live': 'polite'});
    var score = el('p', {'class': 'ag-score', 'id': 'ag-score'});
    var done = el('ol', {'class': 'ag-done', 'id': 'ag-done'});
    box.append(head, prompt, form, feedback, score, done);

    function showScore() {
      score.textContent = 'score: ' + right + ' / ' + qs.length + ' correct (' + firstTry +
        ' at the first try), ' + wrong + ' wrong answer' + (wrong === 1 ? '' : 's');
      box.dataset.right = String(right);
      box.dataset.wrong = String(wrong);
    }
    function show() {
      tries = 0;
      if (i >= qs.length) {
        prompt.textContent = qs.length ? 'Done: every value of the chain rule computed.' :
          'Nothing to compute: the formula is a single number or variable.';
        form.hidden = true;
        box.dataset.finished = 'true';
        if (opts.onDone) { opts.onDone({right: right, wrong: wrong, total: qs.length}); }
        return;
      }
      var q = qs[i];
      prompt.textContent = '(' + (i + 1) + '/' + qs.length + ') ' + q.prompt;
      box.dataset.kind = q.kind;
      input.value = '';
      input.focus();
      if (opts.onStep && q.kind !== 'forward' && stepOf[q.node] !== undefined) { opts.onStep(stepOf[q.node]); }
    }
    function finish(q, text, cls) {
      done.append(el('li', {'class': cls}, q.prompt.replace(/= \?$/, '= ') + text));
      i += 1;
      showScore();
      show();
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var q = qs[i];
      if (!q) { return; }
      var a = parseAnswer(input.value);
      if (a === null) {
        feedback.className = 'ag-feedback ag-unreadable';
        feedback.textContent = 'Type a number (e.g. 0.25, -1/4, 1e-3, nan).';
        return;
      }
      tries += 1;
      if (close(a, q.expected)) {
        right += 1;
        if (tries === 1) { firstTry += 1; }
        feedback.className = 'ag-feedback ag-right';
        feedback.textContent = '✓ right: ' + num(q.expected);
        finish(q, num(q.expected), 'ag-right');
      } else {
        wrong += 1;
        feedback.className = 'ag-feedback ag-wrong';
        feedback.textContent = '✗ not quite (' + input.value.trim() + '). Hint: ' + q.hint;
        showScore();
        input.select();
      }
    });
    reveal.addEventListener('click', function () {
      var q = qs[i];
      if (!q) { return; }
      feedback.className = 'ag-feedback ag-revealed';
      feedback.textContent = 'The answer: ' + num(q.expected) + ' (' + q.hint + ')';
      finish(q, num(q.expected) + ' (shown)', 'ag-revealed');
    });
    showScore();
    show();
    return {questions: qs};
  }

  global.AutogradPractice = {start: start, questions: questions, parseAnswer: parseAnswer,
                             close: close, TOL: TOL};
})(window);
