// ra-signin.js - the officer console's front door (/ra/): sign in, then on
// to the review queue (or, for an account without the ra-officer role, the
// certificates). Signed in already: links to the pages the roles open (ra.js
// hides the others).

import { $, raConsole, flash, whoAmI, may } from './ra.js';

const ra = raConsole({
  content: $('ra-home'),
  async onSignedIn() {
    try {
      await whoAmI();
    } catch (p) {
      await ra.reload();
      return;
    }
    location.assign(may('review') ? '/ra/queue' : '/ra/certificates');
  },
  async load() {
    // Nothing to fetch: raConsole asked who is signed in.
  },
});

ra.start().catch((p) => flash(p.sentence || String(p)));
