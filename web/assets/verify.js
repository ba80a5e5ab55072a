// verify.js - Verify a certificate: a pasted or uploaded certificate goes to
// POST /api/v1/certificate-check, a serial number to GET
// /api/v1/certificate-status/{serial} (docs/api.md); the page shows what the
// server says: the contents, whether it chains to this CA, its status. Only
// the server's "good" makes the page say good.

import { api } from './api.js';
import { showErrors, clearErrors, clearFieldError, busy, problemErrors } from './form.js';

const $ = (id) => document.getElementById(id);
const MAX_FILE = 65536;

// A DER file, as base64, waiting to be sent (a PEM file goes into the text box).
let pendingDer = null;

const REASONS = {
  unspecified: 'no reason given',
  keyCompromise: 'the key was compromised',
  cACompromise: 'the CA was compromised',
  affiliationChanged: 'the holder\'s affiliation changed',
  superseded: 'replaced by a newer certificate',
  cessationOfOperation: 'no longer needed',
  certificateHold: 'on hold',
  privilegeWithdrawn: 'privilege withdrawn',
  aACompromise: 'the attribute authority was compromised',
};

function when(t) {
  return t ? t.replace('T', ' ').replace('Z', ' UTC') : '';
}

function reasonWords(r) {
  return REASONS[r] ? `${r} (${REASONS[r]})` : r;
}

function fact(dl, term, value) {
  if (value === undefined || value === null || value === '' ||
      (Array.isArray(value) && value.length === 0))
    return;
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  if (Array.isArray(value)) {
    const ul = document.createElement('ul');
    ul.className = 'bare';
    for (const v of value) {
      const li = document.createElement('li');
      li.textContent = v;
      ul.append(li);
    }
    dd.append(ul);
  } else {
    dd.textContent = value;
  }
  dl.append(dt, dd);
}

function check(ul, pass, label, text) {
  const li = document.createElement('li');
  const badge = document.createElement('span');
  badge.className = 'badge ' + (pass === true ? 'pass' : pass === false ? 'fail' : 'warn');
  badge.textContent = pass === true ? 'yes' : pass === false ? 'no' : '?';
  li.append(badge, ' ', label + ': ' + text);
  ul.append(li);
}

// The sentence at the top: good only when the server says so.
function verdict(r) {
  const c = r.certificate || {};
  if (r.good)
    return ['ok', 'Good: this CA issued this certificate and it is valid.',
      `Not revoked or suspended; valid until ${when(c.not_after)}.`];
  if (!r.issued_by_this_ca)
    return ['bad', 'Not issued by this CA.',
      'This CA has no record of this certificate' + (r.chain === 'good' ?
        ' (although its signature chains to this CA), ' : ', ') +
      'so its status is unknown: do not accept it as one of this CA\'s certificates.'];
  if (r.status === 'revoked')
    return ['bad', 'Revoked.', `Revoked on ${when(r.revoked_at)}. Reason: ` +
      `${reasonWords(r.reason)}. Do not accept it.`];
  if (r.status === 'suspended')
    return ['warn', 'Suspended.', `On hold since ${when(r.revoked_at)}: do not accept it ` +
      'while it is suspended.'];
  if (r.validity === 'expired')
    return ['bad', 'Expired.', `It expired on ${when(c.not_after)}.`];
  if (r.validity === 'not-yet-valid')
    return ['warn', 'Not valid yet.', `It is valid from ${when(c.not_before)}.`];
  return ['bad', 'Not good.', r.chain_detail || r.status_detail || ''];
}

function render(r) {
  const [kind, head, text] = verdict(r);
  $('verdict').className = 'notice ' + kind;
  $('verdict-head').textContent = head;
  $('verdict-text').textContent = text;
  const ul = $('checks');
  ul.replaceChildren();
  check(ul, r.issued_by_this_ca, 'Issued by this CA', r.issued_by_this_ca ?
    'it is in this CA\'s records, byte for byte' : 'not issued by this CA');
  if (r.chain)
    check(ul, r.chain === 'good', 'Chains to this CA', r.chain_detail || r.chain);
  let status = r.status;
  if (r.status === 'valid')
    status = 'good: not revoked or suspended';
  else if (r.status === 'revoked')
    status = `revoked on ${when(r.revoked_at)}, reason ${reasonWords(r.reason)}`;
  else if (r.status === 'suspended')
    status = `suspended (on hold) since ${when(r.revoked_at)}`;
  else
    status = 'unknown: not issued by this CA';
  check(ul, r.status === 'valid' ? true : r.status === 'unknown' ? null : false, 'Status',
    status);
  if (r.validity)
    check(ul, r.validity === 'current', 'Validity', r.validity === 'current' ?
      'within its validity period' : r.validity.replace(/-/g, ' '));
  const c = r.certificate;
  $('contents-box').hidden = !c;
  const dl = $('contents');
  dl.replaceChildren();
  if (c) {
    fact(dl, 'Subject', c.subject);
    fact(dl, 'Alternative names', c.sans);
    fact(dl, 'Issuer', c.issuer);
    fact(dl, 'Valid from', when(c.not_before));
    fact(dl, 'Valid until', when(c.not_after));
    fact(dl, 'Serial number', c.serial);
    fact(dl, 'Key', c.key);
    fact(dl, 'Product', r.product);
    fact(dl, 'Policies', c.policies);
    fact(dl, 'Extended key usage', c.eku);
    fact(dl, 'CA certificate', c.ca ? 'yes' : 'no');
    fact(dl, 'SHA-256 fingerprint', c.sha256);
  } else {
    fact(dl, 'Serial number', r.serial);
  }
  $('result').hidden = false;
  $('result-title').focus();
}

function hideResult() {
  $('result').hidden = true;
}

// ------------------------------------------------------------------ the certificate

function bytesToBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function readFile() {
  const input = $('file');
  const form = $('check-form');
  clearFieldError('file');
  pendingDer = null;
  $('file-status').textContent = '';
  const f = input.files && input.files[0];
  if (!f)
    return;
  if (f.size > MAX_FILE) {
    showErrors(form, [{ field: 'file', sentence: 'This file is over 64 KiB: a certificate ' +
      'is much smaller. Choose the certificate file itself.' }]);
    return;
  }
  const reader = new FileReader();
  reader.addEventListener('load', () => {
    const bytes = new Uint8Array(reader.result);
    const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64)).trimStart();
    if (head.startsWith('-----BEGIN')) {
      $('pem').value = new TextDecoder('utf-8').decode(bytes);
      clearFieldError('pem');
      $('file-status').textContent = `${f.name}: PEM text, shown above.`;
    } else {
      pendingDer = bytesToBase64(bytes);
      $('pem').value = '';
      $('file-status').textContent = `${f.name}: ${bytes.length} bytes, read as DER.`;
    }
  });
  reader.addEventListener('error', () => {
    showErrors(form, [{ field: 'file', sentence: 'This file could not be read.' }]);
  });
  reader.readAsArrayBuffer(f);
}

async function checkCert(ev) {
  ev.preventDefault();
  const form = $('check-form');
  clearErrors(form);
  clearErrors($('serial-form'));
  hideResult();
  const pem = $('pem').value;
  let body;
  if (pem.trim() !== '')
    body = { pem };
  else if (pendingDer !== null)
    body = { der: pendingDer };
  else {
    showErrors(form, [{ field: 'pem', sentence: 'Paste a certificate or choose a file.' }]);
    return;
  }
  await busy(form, async () => {
    try {
      render(await api('POST', '/api/v1/certificate-check', body));
    } catch (p) {
      // The server names the member it refuses: /pem or /der (the file).
      if (p && !p.field && p.status === 400)
        p.field = body.pem !== undefined ? '/pem' : '/der';
      if (p && p.status === 413)
        p.field = body.pem !== undefined ? '/pem' : '/der';
      showErrors(form, problemErrors(p, { '/pem': 'pem', '/der': 'file' }));
    }
  });
}

async function lookup(ev) {
  if (ev)
    ev.preventDefault();
  const form = $('serial-form');
  clearErrors(form);
  clearErrors($('check-form'));
  hideResult();
  const serial = $('serial').value.trim();
  if (serial === '') {
    showErrors(form, [{ field: 'serial', sentence: 'Enter the serial number.' }]);
    return;
  }
  await busy(form, async () => {
    try {
      render(await api('GET', '/api/v1/certificate-status/' + encodeURIComponent(serial)));
    } catch (p) {
      if (p && !p.field && p.status === 400)
        p.field = '/serial';
      showErrors(form, problemErrors(p, { '/serial': 'serial' }));
    }
  });
}

function start() {
  $('file').addEventListener('change', readFile);
  $('pem').addEventListener('input', () => {
    clearFieldError('pem');
    if (pendingDer !== null) {
      pendingDer = null;
      $('file').value = '';
      $('file-status').textContent = '';
    }
  });
  $('serial').addEventListener('input', () => clearFieldError('serial'));
  $('check-form').addEventListener('submit', checkCert);
  $('serial-form').addEventListener('submit', lookup);
  $('again').addEventListener('click', () => {
    hideResult();
    $('pem').value = '';
    $('file').value = '';
    $('file-status').textContent = '';
    pendingDer = null;
    $('pem').focus();
  });
  const serial = new URLSearchParams(location.search).get('serial');
  if (serial) {
    $('serial').value = serial;
    lookup(null);
  }
}

start();
