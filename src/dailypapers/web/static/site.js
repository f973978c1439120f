// Progressive touches only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent.trim() + "\n");
        button.textContent = "Copied";
      } catch (error) {
        button.textContent = "Copy failed: select the text";
      }
      setTimeout(() => { button.textContent = "Copy BibTeX"; }, 2000);
    });
  }
});
