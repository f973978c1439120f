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

  // Upvote buttons: the form POST works alone; with this, the count changes without a reload.
  for (const form of document.querySelectorAll("form[data-vote]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      const value = form.querySelector("input[name=value]");
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { "Accept": "application/json" },
          credentials: "same-origin",
        });
        if (response.status === 401) { window.location.href = "/signin?next=" + encodeURIComponent(window.location.pathname); return; }
        if (!response.ok) { form.submit(); return; }
        const result = await response.json();
        button.querySelector(".count").textContent = String(result.upvotes);
        button.setAttribute("aria-pressed", result.upvoted ? "true" : "false");
        button.title = result.upvoted ? "Remove your upvote" : "Upvote this paper";
        value.value = result.upvoted ? "0" : "1";
        const label = button.querySelector(".label");
        if (label) label.textContent = result.upvoted ? "Upvoted" : "Upvote";
      } catch (error) {
        form.submit();
      } finally {
        button.disabled = false;
      }
    });
  }
});
