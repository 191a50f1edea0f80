/* Submits a form marked data-auto-submit as soon as the page is read: the development identity
 * provider's page that posts a SAML response to the ACS (templates/devidp/post.html), as real
 * identity providers' pages do. A file rather than an inline script, so the page stays under
 * our Content-Security-Policy; without JavaScript, the form's Continue button does the same.
 */
(function () {
  "use strict";
  var form = document.querySelector("form[data-auto-submit]");
  if (form) {
    form.submit();
  }
})();
