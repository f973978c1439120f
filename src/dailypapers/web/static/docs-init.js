// Starts Swagger UI from a file, not an inline script, so the page keeps a strict CSP.
"use strict";

// Swagger UI draws each operation's path as a link inside the button that opens it, a control
// within a control (axe: nested-interactive). Plain text there keeps the button whole; deep
// linking still updates the address and opens the operation it names.
const PlainDeepLinks = (system) => ({
  wrapComponents: {
    DeepLink: () => ({ text }) => system.React.createElement("span", null, text),
  },
});

// Names and keyboard stops Swagger UI leaves out, added as it draws: the icon-only copy
// buttons, each parameter's select (named for its row) and the scrolling code samples.
function fillGaps(root) {
  for (const button of root.querySelectorAll(".copy-to-clipboard button:not([aria-label])")) {
    button.setAttribute("aria-label", "Copy to clipboard");
  }
  for (const select of root.querySelectorAll("tr[data-param-name] select:not([aria-label])")) {
    select.setAttribute("aria-label", select.closest("tr").dataset.paramName);
  }
  for (const code of root.querySelectorAll("pre.microlight:not([tabindex])")) {
    code.setAttribute("tabindex", "0");
  }
}

window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  new MutationObserver(() => fillGaps(root)).observe(root, { childList: true, subtree: true });
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [PlainDeepLinks],
  });
});
