// The little JavaScript the pages use, loaded from the same origin (the Content-Security-Policy
// allows no inline script): a filter marked data-submit sends its form when it changes; a form
// marked data-busy says so while a long request (an import, a plan) runs, and cannot be sent twice.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target && target.hasAttribute && target.hasAttribute("data-submit") && target.form) {
    target.form.submit();
  }
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form || !form.hasAttribute || !form.hasAttribute("data-busy")) return;
  if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
  form.setAttribute("data-sent", "1");
  var note = document.createElement("p");
  note.className = "flash ok";
  note.setAttribute("role", "status");
  note.textContent = form.getAttribute("data-busy");
  form.appendChild(note);
  var progress = form.getAttribute("data-progress");
  if (progress && window.fetch) {  // the page stays until the answer arrives: say how far it got
    var base = note.textContent;
    setInterval(function () {
      fetch(progress, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
        if (p.rows) note.textContent = base + "(" + p.stage + ":已读 " + p.rows + " 行,发现错误 " + p.errors + " 处)";
      }).catch(function () {});
    }, 1000);
  }
});
