// The product import form: a file larger than the import takes is refused here, before it is
// sent (the server or the proxy would refuse it anyway, with a page that cannot say why as well).
(function () {
  "use strict";
  var input = document.querySelector("input[type=file][data-max-bytes]");
  var note = document.getElementById("import-file-too-large");
  if (!input || !note || !input.form) return;
  var limit = Number(input.getAttribute("data-max-bytes"));
  function tooLarge() {
    var file = input.files && input.files[0];
    return Boolean(file && file.size > limit);
  }
  input.addEventListener("change", function () {
    note.hidden = !tooLarge();
  });
  input.form.addEventListener("submit", function (event) {
    if (tooLarge()) {
      note.hidden = false;
      event.preventDefault();
    }
  });
})();
