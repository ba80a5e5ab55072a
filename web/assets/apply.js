// apply.js - the Apply page: a step-by-step form that ends in
// POST /api/v1/applications. The products, their storage and payment rules
// and the fields they ask for come from GET /api/v1/products; the agreement
// version from GET /api/v1/agreement. Checks here only give early feedback;
// the server's answer decides, and its problem is shown next to its field.

import { api, Problem, idQuery } from './api.js';
import { showErrors, clearErrors, clearFieldError, showFieldError, busy, problemErrors }
  from './form.js';
import { npiProblem, deaProblem, dateOfBirthProblem, emailProblem, passwordProblem,
  passwordStrength } from './checks.js';

const STEPS = ['product', 'you', 'account', 'payment', 'agreement', 'review'];
const STEP_TITLES = ['Product and storage', 'Your information', 'Password and secret questions',
  'Payment', 'Subscriber agreement', 'Review and submit'];
const MIN_QUESTIONS = 3, MAX_QUESTIONS = 5;

const STORAGE_OF = {
  hardware: ['new-token', 'existing-token'],
  software: ['software'],
  either: ['new-token', 'existing-token', 'software'],
};
const STORAGE_TEXT = {
  'new-token': ['On a new hardware token we send you',
    'We post you a token; its passcode comes in a separate letter. The key is made on the ' +
    'token and never leaves it.'],
  'existing-token': ['On a hardware token you already have',
    'A PKCS#11 token of your own; an officer records its serial number.'],
  software: ['In software on your computer',
    'The key is made and kept by your computer.'],
};
const STORAGE_WORDS = { hardware: 'on a hardware token', software: 'in software',
  either: 'on a hardware token or in software' };
const PAYMENT_WORDS = { free: 'free', voucher: 'paid with a voucher code',
  invoice: 'invoiced' };
const FIELD_WORDS = { name: 'name', email: 'email address', address: 'postal address',
  date_of_birth: 'date of birth', npi: 'NPI', dea: 'DEA number', organization: 'organization',
  phone: 'phone number', domain: 'domain name' };
// Every applicant field the page has, by product field name.
const APPLICANT_INPUTS = { name: ['given_name', 'family_name'], email: ['email'],
  address: ['address'], date_of_birth: ['date_of_birth'], npi: ['npi'], dea: ['dea'],
  organization: ['organization'], phone: ['phone'], domain: ['domain'] };
const SUGGESTED_QUESTIONS = ['What was the name of your first pet?',
  'What street did you grow up on?', 'Who was your favourite teacher?',
  'What was the first concert you went to?', 'What is the middle name of your oldest sibling?'];

const $ = (id) => document.getElementById(id);
const form = $('apply-form');
let products = [];
let agreement = null;
let current = 0;
let nQuestions = 0;

// ------------------------------------------------------------------ helpers

function product() {
  const checked = form.querySelector('input[name="product"]:checked');
  return checked ? products.find((p) => p.name === checked.value) : null;
}

function storage() {
  const checked = form.querySelector('input[name="storage"]:checked');
  return checked ? checked.value : null;
}

function asks(p, field) {
  return field === 'email' || (p && p.applicant_fields.includes(field));
}

function value(id) {
  return $(id).value.trim();
}

function years(days) {
  const y = days / 365;
  return y >= 1 && Math.abs(y - Math.round(y)) < 0.1 ?
    `${Math.round(y)} year${Math.round(y) === 1 ? '' : 's'}` : `${days} days`;
}

function choice(name, val, title, text, idPrefix) {
  const div = document.createElement('div');
  div.className = 'choice';
  const input = document.createElement('input');
  input.type = 'radio';
  input.name = name;
  input.value = val;
  input.id = `${idPrefix}-${val}`;
  const label = document.createElement('label');
  label.htmlFor = input.id;
  const t = document.createElement('span');
  t.className = 'choice-title';
  t.textContent = title;
  label.append(t);
  for (const line of text) {
    const s = document.createElement('span');
    s.className = 'product-facts';
    s.textContent = line;
    label.append(s);
  }
  div.append(input, label);
  return div;
}

// ------------------------------------------------------------------ rendering

function renderProducts() {
  const list = $('product-list');
  list.replaceChildren(...products.map((p) => choice('product', p.name, p.title, [
    p.description,
    `Key kept ${STORAGE_WORDS[p.storage] || p.storage}; valid ${years(p.validity_days)}; ` +
      `${PAYMENT_WORDS[p.payment] || p.payment}.`,
    'Asks for: ' + p.applicant_fields.map((f) => FIELD_WORDS[f] || f).join(', ') + '.',
  ], 'product')));
  list.querySelectorAll('input').forEach((i) => i.addEventListener('change', productChanged));
}

function productChanged() {
  const p = product();
  clearFieldError('product');
  const keep = storage();
  const choices = p ? STORAGE_OF[p.storage] || [] : [];
  const list = $('storage-list');
  list.replaceChildren(...choices.map((c) => choice('storage', c, STORAGE_TEXT[c][0],
    [STORAGE_TEXT[c][1]], 'storage')));
  $('storage-hint').textContent = !p ? 'Choose a product first.' : choices.length === 1 ?
    'This product allows one choice.' : 'This product allows these choices.';
  const again = list.querySelector(`input[value="${keep}"]`) || (choices.length === 1 ?
    list.querySelector('input') : null);
  if (again)
    again.checked = true;
  list.querySelectorAll('input').forEach((i) => i.addEventListener('change',
    () => clearFieldError('storage')));

  for (const wrap of form.querySelectorAll('[data-field]'))
    wrap.hidden = !asks(p, wrap.dataset.field);

  const pay = p ? p.payment : null;
  $('voucher-field').hidden = pay !== 'voucher';
  $('payment-text').textContent = !p ? '' : pay === 'free' ?
    'This product is free: there is nothing to pay, and no voucher is needed.' :
    pay === 'voucher' ? `${p.title} is paid in advance: enter the voucher code you bought ` +
      'or were given for it. A voucher is used up by this application.' :
    pay === 'invoice' ? `${p.title} is invoiced: the CA sends you an invoice. No code is ` +
      'needed here.' : `Payment: ${pay}.`;
}

function questionBlock(i) {
  const div = document.createElement('div');
  div.className = 'question';
  const q = document.createElement('div');
  q.className = 'field';
  const ql = document.createElement('label');
  ql.htmlFor = `q${i}`;
  ql.textContent = `Question ${i} `;
  const req = document.createElement('span');
  req.className = 'req';
  req.textContent = '(required)';
  ql.append(req);
  const qi = document.createElement('input');
  qi.type = 'text';
  qi.id = `q${i}`;
  qi.maxLength = 200;
  qi.setAttribute('list', 'question-ideas');
  qi.autocomplete = 'off';
  q.append(ql, qi);
  const a = document.createElement('div');
  a.className = 'field';
  const al = document.createElement('label');
  al.htmlFor = `a${i}`;
  al.textContent = `Answer ${i} `;
  al.append(req.cloneNode(true));
  const ai = document.createElement('input');
  ai.type = 'text';
  ai.id = `a${i}`;
  ai.maxLength = 256;
  ai.autocomplete = 'off';
  ai.spellcheck = false;
  a.append(al, ai);
  div.append(q, a);
  return div;
}

function setQuestions(n) {
  const list = $('question-list');
  while (nQuestions < n)
    list.append(questionBlock(++nQuestions));
  while (nQuestions > n) {
    list.lastElementChild.remove();
    nQuestions--;
  }
  $('add-question').hidden = nQuestions >= MAX_QUESTIONS;
  $('remove-question').hidden = nQuestions <= MIN_QUESTIONS;
}

function questionIdeas() {
  const dl = document.createElement('datalist');
  dl.id = 'question-ideas';
  for (const q of SUGGESTED_QUESTIONS) {
    const o = document.createElement('option');
    o.value = q;
    dl.append(o);
  }
  form.append(dl);
}

// ------------------------------------------------------------------ steps

function showStep(i, focus = true) {
  current = i;
  STEPS.forEach((name, k) => {
    $(`step-${name}`).hidden = k !== i;
    const li = form.querySelector(`#step-list li[data-step="${name}"]`);
    if (k === i)
      li.setAttribute('aria-current', 'step');
    else
      li.removeAttribute('aria-current');
  });
  $('back').hidden = i === 0;
  $('next').hidden = i === STEPS.length - 1;
  $('submit').hidden = i !== STEPS.length - 1;
  if (STEPS[i] === 'review')
    renderReview();
  $('step-status').textContent = `Step ${i + 1} of ${STEPS.length}: ${STEP_TITLES[i]}`;
  if (focus) {
    const step = $(`step-${STEPS[i]}`);
    step.setAttribute('tabindex', '-1');
    step.focus();
    step.scrollIntoView({ block: 'start' });
  }
}

// Errors of one step this page can see before asking the server.
function stepErrors(name) {
  const errs = [];
  const need = (id, sentence) => {
    if (value(id) === '')
      errs.push({ field: id, sentence });
  };
  const p = product();
  if (name === 'product') {
    if (!p)
      errs.push({ field: 'product', sentence: 'Choose a product.' });
    else if (!storage())
      errs.push({ field: 'storage', sentence: 'Choose where your key will be kept.' });
  } else if (name === 'you') {
    if (asks(p, 'name')) {
      need('given_name', 'Enter your given name.');
      need('family_name', 'Enter your family name.');
    }
    const e = emailProblem(value('email'));
    if (e)
      errs.push({ field: 'email', sentence: e });
    if (asks(p, 'address'))
      need('address', 'Enter your postal address.');
    if (asks(p, 'date_of_birth')) {
      const d = dateOfBirthProblem(value('date_of_birth'));
      if (d)
        errs.push({ field: 'date_of_birth', sentence: d });
    }
    if (asks(p, 'npi')) {
      const n = npiProblem(value('npi'));
      if (n)
        errs.push({ field: 'npi', sentence: n });
    }
    if (asks(p, 'dea')) {
      const d = deaProblem(value('dea'), value('family_name'));
      if (d)
        errs.push({ field: 'dea', sentence: d });
    }
    if (asks(p, 'organization'))
      need('organization', 'Enter your organization.');
    if (asks(p, 'phone'))
      need('phone', 'Enter your phone number.');
    if (asks(p, 'domain'))
      need('domain', 'Enter the domain name.');
  } else if (name === 'account') {
    const pw = $('password').value;
    const e = passwordProblem(pw, [value('given_name'), value('family_name'), value('email')]);
    if (e)
      errs.push({ field: 'password', sentence: e });
    else if ($('password2').value !== pw)
      errs.push({ field: 'password2', sentence: 'The two passwords are not the same.' });
    const seen = new Map();
    for (let i = 1; i <= nQuestions; i++) {
      const q = value(`q${i}`);
      need(`q${i}`, `Write secret question ${i}.`);
      need(`a${i}`, `Write the answer to question ${i}.`);
      if (q !== '' && seen.has(q.toLowerCase()))
        errs.push({ field: `q${i}`, sentence:
          `Secret question ${i} repeats question ${seen.get(q.toLowerCase())}.` });
      else if (q !== '')
        seen.set(q.toLowerCase(), i);
    }
  } else if (name === 'payment') {
    if (p && p.payment === 'voucher')
      need('voucher', 'Enter your voucher code.');
  } else if (name === 'agreement') {
    if (!$('agree').checked)
      errs.push({ field: 'agree', sentence: 'Accept the subscriber agreement to apply.' });
  }
  return errs;
}

function next() {
  clearErrors(form);
  const errs = stepErrors(STEPS[current]);
  if (errs.length > 0) {
    showErrors(form, errs);
    return;
  }
  showStep(Math.min(current + 1, STEPS.length - 1));
}

// ------------------------------------------------------------------ review

function reviewRow(dl, term, text, step) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  const span = document.createElement('span');
  span.className = 'review-value';
  span.textContent = text;
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'link-button';
  b.append('Change');
  const hidden = document.createElement('span');
  hidden.className = 'visually-hidden';
  hidden.textContent = ' ' + term.toLowerCase();
  b.append(hidden);
  b.addEventListener('click', () => showStep(STEPS.indexOf(step)));
  dd.append(span, ' ', b);
  dl.append(dt, dd);
}

function renderReview() {
  const dl = $('review-list');
  dl.replaceChildren();
  const p = product();
  reviewRow(dl, 'Product', p ? p.title : '', 'product');
  reviewRow(dl, 'Key storage', STORAGE_TEXT[storage()] ? STORAGE_TEXT[storage()][0] : '',
    'product');
  if (asks(p, 'name'))
    reviewRow(dl, 'Name', `${value('given_name')} ${value('family_name')}`, 'you');
  const simple = [['email', 'Email address'], ['address', 'Postal address'],
    ['date_of_birth', 'Date of birth'], ['npi', 'NPI'], ['dea', 'DEA number'],
    ['organization', 'Organization'], ['phone', 'Phone number'], ['domain', 'Domain name']];
  for (const [f, term] of simple)
    if (asks(p, f))
      reviewRow(dl, term, value(f), 'you');
  reviewRow(dl, 'Password', `chosen (${Array.from($('password').value).length} characters, ` +
    'not shown)', 'account');
  const qs = [];
  for (let i = 1; i <= nQuestions; i++)
    qs.push(value(`q${i}`));
  reviewRow(dl, 'Secret questions', qs.join(' / ') + ' (answers not shown)', 'account');
  if (p && p.payment === 'voucher')
    reviewRow(dl, 'Voucher code', value('voucher'), 'payment');
  else
    reviewRow(dl, 'Payment', PAYMENT_WORDS[p ? p.payment : ''] || '', 'payment');
  reviewRow(dl, 'Subscriber agreement', `version ${agreement.version}, accepted`, 'agreement');
}

// ------------------------------------------------------------------ submit

// Where the server's pointers point on this page.
function fieldIds() {
  const map = { '/product': 'product', '/storage': 'storage', '/agreement': 'agree',
    '/agree': 'agree', '/password': 'password', '/voucher': 'voucher',
    '/questions': 'questions' };
  for (const ids of Object.values(APPLICANT_INPUTS))
    for (const id of ids)
      map['/applicant/' + id] = id;
  for (let i = 1; i <= nQuestions; i++) {
    map[`/questions/${i - 1}`] = `q${i}`;
    map[`/questions/${i - 1}/question`] = `q${i}`;
    map[`/questions/${i - 1}/answer`] = `a${i}`;
  }
  return map;
}

// The field of a detail without a pointer (src/ra/app.c's sentences), from
// its words; the first rule that matches wins.
const GUESS = [
  [/password/i, '/password'],
  [/voucher/i, '/voucher'],
  [/agreement/i, '/agreement'],
  [/storage/i, '/storage'],
  [/\bNPI\b/i, '/applicant/npi'],
  [/\bDEA\b/i, '/applicant/dea'],
  [/date of birth/i, '/applicant/date_of_birth'],
  [/email address|\bemail\b/i, '/applicant/email'],
  [/family name/i, '/applicant/family_name'],
  [/given (and family )?name/i, '/applicant/given_name'],
  [/address/i, '/applicant/address'],
  [/phone/i, '/applicant/phone'],
  [/domain/i, '/applicant/domain'],
  [/organization/i, '/applicant/organization'],
  [/secret question/i, '/questions'],
  [/product/i, '/product'],
];

function serverErrors(p) {
  if (p instanceof Problem && !p.field) {
    const m = /secret question (\d+)/i.exec(p.detail);
    if (m && Number(m[1]) >= 1 && Number(m[1]) <= nQuestions)
      p.field = `/questions/${Number(m[1]) - 1}/question`;
    // The one code in an application is the voucher: a typo its check
    // symbol caught is "parse", and the sentence may only say "the code".
    else if (p.type === 'parse' && /code/i.test(p.detail) && product() &&
        product().payment === 'voucher')
      p.field = '/voucher';
  }
  return problemErrors(p, fieldIds(), GUESS);
}

function body() {
  const p = product();
  const applicant = {};
  for (const [f, ids] of Object.entries(APPLICANT_INPUTS))
    if (asks(p, f))
      for (const id of ids)
        applicant[id] = value(id);
  const questions = [];
  for (let i = 1; i <= nQuestions; i++)
    questions.push({ question: value(`q${i}`), answer: value(`a${i}`) });
  const b = { product: p.name, storage: storage(), agreement: agreement.version,
    password: $('password').value, applicant, questions };
  if (p.payment === 'voucher')
    b.voucher = value('voucher');
  return b;
}

async function submit(ev) {
  ev.preventDefault();
  if (current !== STEPS.length - 1) {
    next();
    return;
  }
  clearErrors(form);
  // Every step again: a change link may have left one unfinished.
  for (let i = 0; i < STEPS.length; i++) {
    const errs = stepErrors(STEPS[i]);
    if (errs.length > 0) {
      showStep(i, false);
      showErrors(form, errs);
      return;
    }
  }
  await busy(form, async () => {
    try {
      const answer = await api('POST', '/api/v1/applications', body());
      done(answer);
    } catch (p) {
      showErrors(form, serverErrors(p));
    }
  });
}

function done(answer) {
  const p = product();
  const email = value('email');
  form.hidden = true;
  const id = answer.id;
  $('done-id').textContent = id;
  const q = idQuery(id);
  $('done-verify').href = '/verify-email' + q;
  $('done-status').href = '/application' + q;
  const until = answer.code_expires_at || answer.expires_at;
  $('done-email').textContent = `We have sent an email to ${email} with a verification ` +
    'code. It works once' + (until ? `, until ${until.replace('T', ' ').replace('Z', ' UTC')}` :
    ', for a limited time that the message states') + '; if it runs out, ask for a new one ' +
    'under My application.';
  const days = answer.email_days || agreement.email_days;
  const lapses = answer.lapses_at ? ` (by ${answer.lapses_at.replace('T', ' ')
    .replace(/:\d\dZ$/, ' UTC')})` : '';
  $('done-deadline').textContent = days ?
    `If the address is not verified within ${days} days${lapses}, the application lapses.` :
    'If the address is never verified, the application lapses after the period this CA ' +
    'sets (30 days by default).';
  const s = storage();
  $('done-retrieve').textContent = 'Once approved, we email you an activation letter' +
    (s === 'new-token' ? ', and post your token with its passcode in a separate letter' : '') +
    '. With them you retrieve your certificate' +
    (p.storage === 'software' || s === 'software' ? ' onto your computer.' : ' onto the token.');
  $('done-next').textContent = answer.next || '';
  // Wipe what the form held: the password and answers are no longer needed.
  form.reset();
  const phases = document.querySelectorAll('.phases li');
  phases[0].removeAttribute('aria-current');
  phases[0].classList.add('done');
  phases[0].querySelector('.phase-state').textContent = 'done';
  phases[1].setAttribute('aria-current', 'step');
  phases[1].querySelector('.phase-state').textContent = 'next: enter the email code';
  document.title = `Application ${id} submitted — Tessera`;
  $('page-title').textContent = 'Application submitted';
  $('done').hidden = false;
  $('done-title').focus();
}

// ------------------------------------------------------------------ start

function live() {
  $('password').addEventListener('input', () => {
    $('password-strength').textContent = passwordStrength($('password').value);
  });
  // Feedback when leaving a field, for the fields with a mirrored rule.
  const onBlur = {
    email: () => emailProblem(value('email')),
    date_of_birth: () => dateOfBirthProblem(value('date_of_birth')),
    npi: () => npiProblem(value('npi')),
    dea: () => deaProblem(value('dea'), value('family_name')),
    password: () => passwordProblem($('password').value,
      [value('given_name'), value('family_name'), value('email')]),
  };
  // An error shows when the field is left, and goes as soon as typing has
  // mended it.
  for (const [id, check] of Object.entries(onBlur)) {
    const current = () => {
      const v = id === 'password' ? $(id).value : value(id);
      return v === '' ? null : check();
    };
    $(id).addEventListener('focusout', (ev) => {
      // On the way to Back or Continue, leave it to them: an error shown now
      // would move the button from under the pointer before the click.
      if (ev.relatedTarget && ev.relatedTarget.closest('.actions'))
        return;
      const e = current();
      const shown = $(`${id}-error`);
      if (e && !(shown && shown.textContent.endsWith(e)))
        showFieldError(id, e);
    });
    $(id).addEventListener('input', () => {
      if ($(id).getAttribute('aria-invalid') === 'true' && current() === null)
        clearFieldError(id);
    });
  }
  form.addEventListener('input', (ev) => {
    if (ev.target.getAttribute('aria-invalid') === 'true' && !(ev.target.id in onBlur))
      clearFieldError(ev.target);
  });
  form.addEventListener('reveal', (ev) => {
    const step = ev.target.closest('.step');
    if (step && step.hidden)
      showStep(STEPS.indexOf(step.dataset.step), false);
  });
  $('next').addEventListener('click', next);
  $('back').addEventListener('click', () => {
    clearErrors(form);
    showStep(Math.max(current - 1, 0));
  });
  $('add-question').addEventListener('click', () => {
    setQuestions(nQuestions + 1);
    $(`q${nQuestions}`).focus();
  });
  $('remove-question').addEventListener('click', () => {
    setQuestions(nQuestions - 1);
    $('add-question').hidden ? $('remove-question').focus() : $('add-question').focus();
  });
  form.addEventListener('submit', submit);
}

/**
 * The agreement's text as elements, never as HTML: paragraphs split by
 * blank lines; a line "# Title" or "## Title" is a heading, lines "- item"
 * a list (the subset docs/web.md describes). Everything else is text.
 */
export function agreementNodes(text) {
  const nodes = [];
  for (const block of text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    let para = [];
    let list = null;
    const flush = () => {
      if (para.length > 0) {
        const p = document.createElement('p');
        p.textContent = para.join(' ');
        nodes.push(p);
        para = [];
      }
    };
    for (const line of lines) {
      const head = /^(#{1,2}) +(.+)$/.exec(line.trim());
      const item = /^- +(.+)$/.exec(line.trim());
      if (head) {
        flush();
        list = null;
        const el = document.createElement(head[1].length === 1 ? 'h3' : 'h4');
        el.textContent = head[2];
        nodes.push(el);
      } else if (item) {
        flush();
        if (list === null) {
          list = document.createElement('ul');
          nodes.push(list);
        }
        const li = document.createElement('li');
        li.textContent = item[1];
        list.append(li);
      } else if (list !== null && /^\s/.test(line)) {
        list.lastChild.append(' ' + line.trim());      // a list item's next line
      } else {
        list = null;
        para.push(line.trim());
      }
    }
    flush();
  }
  return nodes;
}

function loadError(text) {
  $('loading').hidden = true;
  const e = $('load-error');
  e.textContent = text;
  e.hidden = false;
}

async function start() {
  let agr;
  try {
    const [list, a] = await Promise.all([api('GET', '/api/v1/products'),
      api('GET', '/api/v1/agreement').catch((p) => ({ problem: p }))]);
    products = list.products || [];
    agr = a;
  } catch (p) {
    loadError('This page could not load the products: ' + (p.sentence || String(p)) +
      ' Reload the page to try again.');
    return;
  }
  // Nobody applies without reading the agreement: the server refuses
  // applications too while its text cannot be read.
  if (agr.problem || typeof agr.text !== 'string' || agr.text === '') {
    const p = agr.problem;
    loadError(p && p.type === 'config' ?
      'The subscriber agreement cannot be shown: this CA has not set up its text. ' +
      'Applications cannot be submitted until it has; please try again later.' :
      'The subscriber agreement could not be loaded' + (p ? `: ${p.sentence}` : '.') +
      ' Applications cannot be submitted without it. Reload the page to try again.');
    return;
  }
  agreement = agr;
  $('agreement-version').textContent = agreement.version;
  $('agreement-version-2').textContent = agreement.version;
  const div = $('agreement-text');
  div.replaceChildren(...agreementNodes(agreement.text));
  // A scrollable region a keyboard can reach and scroll.
  div.classList.add('agreement-text');
  div.setAttribute('tabindex', '0');
  div.setAttribute('role', 'region');
  div.setAttribute('aria-label', `Text of the subscriber agreement, version ${agreement.version}`);
  renderProducts();
  questionIdeas();
  setQuestions(MIN_QUESTIONS);
  live();
  productChanged();
  $('loading').hidden = true;
  form.hidden = false;
  showStep(0, false);
}

start();
