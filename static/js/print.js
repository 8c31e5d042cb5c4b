// The documents' Print button (a script file, as the content security policy allows no inline one).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
