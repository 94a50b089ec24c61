// Helpers shared by the playground page (playground.js) and practice mode
// (practice.js, also inlined in write_stepper(..., practice=True) files).
'use strict';
(function (global) {
  // a number as the pages print it: 6 significant digits; the JSON's "nan", "inf", "-inf" as they are
  function num(x) {
    if (typeof x === 'string') { return x; }
    if (x === 0) { return '0'; }
    return String(Number(x.toPrecision(6)));
  }
  // a new element with attributes and text (text, never markup)
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  global.AutogradCommon = {num: num, el: el};
})(window);
