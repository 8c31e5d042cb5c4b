// The product page's pictures. A thumbnail shows its picture in place of the main one (without
// JavaScript it leads to the larger file), and picking a variant that has a picture of its own
// shows that one. The option picker (variant-picker.js) is left alone: this listens to the same
// selects and finds the thumbnail whose data-variant-combination is the chosen values' ids,
// sorted and joined with "-", as the picker matches them.
(function () {
  "use strict";
  var gallery = document.querySelector("[data-gallery]");
  if (!gallery) return;
  var main = gallery.querySelector("[data-gallery-main]");
  var thumbs = gallery.querySelectorAll("a[data-gallery-thumb]");
  if (!main || thumbs.length < 2) return;
  var mainImg = main.querySelector("img");
  var current = thumbs[0];
  var showingVariant = false;

  function show(thumb) {
    var picture = thumb.querySelector("picture");
    var source = picture.querySelector("source");
    var img = picture.querySelector("img");
    var mainSource = main.querySelector("source");
    var sizes = main.getAttribute("data-sizes");
    if (source) {
      if (!mainSource) {
        mainSource = document.createElement("source");
        mainSource.type = "image/webp";
        main.insertBefore(mainSource, mainImg);
      }
      mainSource.sizes = sizes;
      mainSource.srcset = source.srcset;
    } else if (mainSource) {
      main.removeChild(mainSource);
    }
    if (img.getAttribute("srcset")) {
      mainImg.sizes = sizes;
      mainImg.srcset = img.getAttribute("srcset");
    } else {
      mainImg.removeAttribute("srcset");
      mainImg.removeAttribute("sizes");
    }
    mainImg.src = thumb.getAttribute("data-src");
    mainImg.width = parseInt(thumb.getAttribute("data-width"), 10);
    mainImg.height = parseInt(thumb.getAttribute("data-height"), 10);
    mainImg.alt = img.alt;
    current.removeAttribute("aria-current");
    thumb.setAttribute("aria-current", "true");
    current = thumb;
  }

  function onThumbClick(event) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return; // a new tab or window: let the link open the file
    }
    event.preventDefault();
    show(event.currentTarget);
    showingVariant = false;
  }
  for (var i = 0; i < thumbs.length; i++) thumbs[i].addEventListener("click", onThumbClick);

  var form = document.querySelector("form[data-variants]");
  var selects = form ? form.querySelectorAll("select[data-option]") : [];

  function chosenCombination() {
    var values = [];
    for (var j = 0; j < selects.length; j++) values.push(parseInt(selects[j].value, 10));
    values.sort(function (a, b) { return a - b; });
    return values.join("-");
  }

  function followVariant() {
    var key = chosenCombination();
    for (var k = 0; k < thumbs.length; k++) {
      if (thumbs[k].getAttribute("data-variant-combination") === key) {
        show(thumbs[k]);
        showingVariant = true;
        return;
      }
    }
    if (showingVariant) {
      // The variant picked now has no picture of its own: back to the product's first.
      show(thumbs[0]);
      showingVariant = false;
    }
  }
  for (var m = 0; m < selects.length; m++) selects[m].addEventListener("change", followVariant);
})();
