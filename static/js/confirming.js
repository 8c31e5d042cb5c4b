// While a payment is being confirmed, check the page again every few seconds in the background
// and reload it once the order's status has changed. Without JavaScript, "Check again" does it.
(function () {
  "use strict";
  var marker = document.querySelector("[data-confirming]");
  if (!marker || !window.fetch) return;
  var tries = 0;
  var timer = window.setInterval(function () {
    tries += 1;
    if (tries > 40) { window.clearInterval(timer); return; }
    window.fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (html.indexOf("data-confirming") === -1) {
          window.clearInterval(timer);
          window.location.reload();
        }
      })
      .catch(function () { /* a network blip: try again on the next tick */ });
  }, 3000);
})();
