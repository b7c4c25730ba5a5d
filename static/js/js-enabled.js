/* NHS.UK frontend: mark the page as having JavaScript (and a modern browser) before it
   paints. Loaded as the first element of <body>, as a file, so the content security
   policy needs no inline script. */
document.body.className +=
  " js-enabled" +
  ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
