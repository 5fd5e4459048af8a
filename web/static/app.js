// The little JavaScript the pages use, loaded from the same origin (the Content-Security-Policy
// allows no inline script): a filter marked data-submit sends its form when it changes.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target && target.hasAttribute && target.hasAttribute("data-submit") && target.form) {
    target.form.submit();
  }
});
