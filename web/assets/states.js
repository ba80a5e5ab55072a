// states.js - an application's states (docs/ra.md) in words, and where each
// stands in the three phases Apply -> Get verified -> Retrieve.

const WORDS = {
  submitted: 'submitted: waiting for your email code',
  email_verified: 'email verified',
  under_review: 'under review',
  approved: 'approved',
  activation_issued: 'approved: activation letter sent',
  certificate_issued: 'certificate issued',
  rejected: 'rejected',
  lapsed: 'lapsed',
  withdrawn: 'withdrawn',
};

/** The state in words ("under review"). */
export function stateWords(state) {
  return WORDS[state] || String(state).replace(/_/g, ' ');
}

/** Whether no step follows this state. */
export function isFinal(state) {
  return state === 'rejected' || state === 'lapsed' || state === 'withdrawn';
}

/**
 * The phases for a state: a list of three {name, status, text}, status
 * "done", "current", "ahead" or "stopped".
 */
export function phasesOf(state) {
  const p = [
    { name: 'Apply', status: 'done', text: 'done' },
    { name: 'Get verified', status: 'ahead', text: 'email code, then an officer\'s review' },
    { name: 'Retrieve', status: 'ahead', text: 'your certificate onto your token or computer' },
  ];
  switch (state) {
  case 'submitted':
    p[1].status = 'current';
    p[1].text = 'now: enter the code we emailed you';
    break;
  case 'email_verified':
  case 'under_review':
    p[1].status = 'current';
    p[1].text = 'now: officers are reviewing your identity';
    break;
  case 'approved':
    p[1].status = 'current';
    p[1].text = 'approved: your activation letter is on its way';
    break;
  case 'activation_issued':
    p[1].status = 'done';
    p[1].text = 'done';
    p[2].status = 'current';
    p[2].text = 'now: retrieve your certificate with your activation code';
    break;
  case 'certificate_issued':
    p[1].status = p[2].status = 'done';
    p[1].text = 'done';
    p[2].text = 'done: your certificate is issued';
    break;
  default:
    p[1].status = 'stopped';
    p[1].text = `stopped: the application is ${stateWords(state)}`;
    break;
  }
  return p;
}

/** Draw the phases of `state` into the <ol class="phases"> `ol`. */
export function renderPhases(ol, state) {
  ol.replaceChildren(...phasesOf(state).map((ph) => {
    const li = document.createElement('li');
    li.append(ph.name);
    if (ph.status === 'done')
      li.className = 'done';
    if (ph.status === 'current')
      li.setAttribute('aria-current', 'step');
    if (ph.status === 'stopped')
      li.className = 'stopped';
    const s = document.createElement('span');
    s.className = 'phase-state';
    s.textContent = ph.text;
    li.append(s);
    return li;
  }));
}
