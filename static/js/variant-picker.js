// On a product with options: as the shopper chooses, show the chosen variant's price and stock,
// and say when a combination is not sold. Without JavaScript the form posts the chosen values
// and the server answers the same things.
(function () {
  "use strict";
  var form = document.querySelector("form[data-variants]");
  if (!form) return;
  var variants = JSON.parse(form.getAttribute("data-variants"));
  var selects = form.querySelectorAll("select[data-option]");
  var price = document.querySelector("[data-variant-price]");
  var stock = document.querySelector("[data-variant-stock]");
  var button = form.querySelector("[data-variant-button]");

  function chosen() {
    var values = [];
    for (var i = 0; i < selects.length; i++) values.push(parseInt(selects[i].value, 10));
    values.sort(function (a, b) { return a - b; });
    for (var j = 0; j < variants.length; j++) {
      if (variants[j].values.join("-") === values.join("-")) return variants[j];
    }
    return null;
  }

  function show() {
    var variant = chosen();
    if (!variant) {
      stock.textContent = "Not available in this combination";
      stock.className = "stock stock--out";
      button.disabled = true;
      return;
    }
    price.textContent = variant.price;
    stock.textContent = variant.in_stock ? "In stock" : "Out of stock in this combination";
    stock.className = variant.in_stock ? "stock stock--in" : "stock stock--out";
    button.disabled = !variant.in_stock;
  }

  for (var k = 0; k < selects.length; k++) selects[k].addEventListener("change", show);
  stock.setAttribute("aria-live", "polite");
  show();
})();
