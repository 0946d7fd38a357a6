import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';

export const WEBAUTHN_LIBRARY_PATH = '/assets/webauthn-browser.js';
export const PASSKEY_SCRIPT_PATH = '/assets/passkey.js';

/**
 * The only script our pages use, on the passkey pages only, served from our origin (the CSP allows
 * 'self' scripts, nothing inline). It reveals the passkey button, runs the browser ceremony with
 * @simplewebauthn/browser, and submits the page's ordinary form with the result. Without
 * JavaScript the button stays hidden and the app code or a recovery code still works.
 */
const PASSKEY_SCRIPT = `(function () {
  var area = document.querySelector('[data-passkey-options]');
  if (!area || !window.PublicKeyCredential || !window.SimpleWebAuthnBrowser) return;
  var button = area.querySelector('button');
  var form = area.querySelector('form');
  var error = area.querySelector('.passkey-error');
  button.hidden = false;
  button.addEventListener('click', function () {
    error.hidden = true;
    var optionsJSON = JSON.parse(area.getAttribute('data-passkey-options'));
    var ceremony = area.getAttribute('data-passkey-mode') === 'register'
      ? window.SimpleWebAuthnBrowser.startRegistration({ optionsJSON: optionsJSON })
      : window.SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: optionsJSON });
    ceremony.then(function (response) {
      form.elements.response.value = JSON.stringify(response);
      form.submit();
    }, function () {
      error.textContent = 'The passkey did not work. Try again, or use another way below.';
      error.hidden = false;
    });
  });
})();
`;

function webauthnLibrary(): string {
  const entry = fileURLToPath(import.meta.resolve('@simplewebauthn/browser'));
  return readFileSync(new URL('../dist/bundle/index.umd.min.js', `file://${entry}`), 'utf8');
}

/** Serves the two scripts; cached for an hour like the stylesheet. */
export function passkeyScriptRoutes(): Router {
  const library = webauthnLibrary();
  const router = new Router();
  for (const [path, body] of [[WEBAUTHN_LIBRARY_PATH, library], [PASSKEY_SCRIPT_PATH, PASSKEY_SCRIPT]] as const) {
    router.get(path, (ctx) => {
      ctx.type = 'application/javascript';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = body;
    });
  }
  return router;
}
