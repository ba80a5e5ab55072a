// ra-signin.js - the officer console's front door (/ra/): sign in, then on
// to the review queue. Signed in already: links to the console's pages.

import { api } from './api.js';
import { $, raConsole, forbidden, flash } from './ra.js';

const ra = raConsole({
  content: $('ra-home'),
  onSignedIn: () => location.assign('/ra/queue'),
  async load() {
    try {
      await api('GET', '/api/v1/ra/applications?limit=1');
    } catch (p) {
      // Signed in without the ra-officer role (an auditor): still signed in.
      if (!forbidden(p))
        throw p;
      flash('Your account does not hold the ra-officer role: the review queue is not ' +
        'open to you.');
    }
  },
});

ra.start().catch((p) => flash(p.sentence || String(p)));
