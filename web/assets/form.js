// form.js - errors shown where they belong, for every form of the pages.
//
// An error is a sentence next to its field (a <p> the field names in
// aria-describedby, the field marked aria-invalid), repeated in the form's
// summary (an aria-live region listing links to the fields), and the first
// field in error gets the focus. A field is an <input>, <select>,
// <textarea>, or a <fieldset> (for a group of radio buttons).

import { guessField } from './api.js';

/** The element whose id is `id` (or the element itself). */
function el(x) {
  return typeof x === 'string' ? document.getElementById(x) : x;
}

/** The text of the label of a field, for the summary. */
function labelOf(field) {
  if (field.tagName === 'FIELDSET') {
    const legend = field.querySelector('legend');
    if (!legend)
      return '';
    const copy = legend.cloneNode(true);
    copy.querySelectorAll('.req').forEach((e) => e.remove());
    return copy.textContent.replace(/\s+/g, ' ').trim();
  }
  const label = field.labels && field.labels[0];
  if (!label)
    return '';
  // The label's own words: without its hint and "(required)".
  const copy = label.cloneNode(true);
  copy.querySelectorAll('.hint, .req, .visually-hidden').forEach((e) => e.remove());
  return copy.textContent.replace(/\s+/g, ' ').trim();
}

function errorId(field) {
  return field.id + '-error';
}

/** Remove one field's error. */
export function clearFieldError(x) {
  const field = el(x);
  if (!field)
    return;
  const id = errorId(field);
  const p = document.getElementById(id);
  if (p)
    p.remove();
  field.removeAttribute('aria-invalid');
  const ids = (field.getAttribute('aria-describedby') || '').split(/\s+/)
    .filter((d) => d !== '' && d !== id);
  if (ids.length > 0)
    field.setAttribute('aria-describedby', ids.join(' '));
  else
    field.removeAttribute('aria-describedby');
  const wrap = field.closest('.field');
  if (wrap)
    wrap.classList.remove('has-error');
  // Its line in the summary goes too; an empty summary hides.
  const form = field.closest('form');
  const summary = form && summaryOf(form);
  if (summary && !summary.hidden) {
    summary.querySelectorAll('li').forEach((li) => {
      if (li.dataset.for === field.id)
        li.remove();
    });
    if (!summary.querySelector('li')) {
      summary.hidden = true;
      summary.replaceChildren();
    }
  }
}

/** Show `sentence` next to a field; returns the field. */
export function showFieldError(x, sentence) {
  const field = el(x);
  clearFieldError(field);
  const p = document.createElement('p');
  p.id = errorId(field);
  p.className = 'field-error';
  const hidden = document.createElement('span');
  hidden.className = 'visually-hidden';
  hidden.textContent = 'Error: ';
  p.append(hidden, sentence);
  if (field.tagName === 'FIELDSET') {
    const legend = field.querySelector('legend');
    legend.after(p);
  } else if (field.type === 'checkbox' || field.type === 'radio') {
    // Above the box and its label, which sit side by side.
    (field.closest('.choice') || field).before(p);
  } else {
    // Between the label (and its hint) and the field, where it is read first.
    field.before(p);
  }
  field.setAttribute('aria-invalid', 'true');
  const ids = (field.getAttribute('aria-describedby') || '').split(/\s+/).filter((d) => d);
  ids.unshift(p.id);
  field.setAttribute('aria-describedby', ids.join(' '));
  const wrap = field.closest('.field');
  if (wrap)
    wrap.classList.add('has-error');
  return field;
}

/** Clear every error of a form (the fields' and the summary). */
export function clearErrors(form) {
  form.querySelectorAll('[aria-invalid="true"]').forEach((f) => clearFieldError(f));
  form.querySelectorAll('fieldset[aria-invalid]').forEach((f) => clearFieldError(f));
  const s = summaryOf(form);
  if (s) {
    s.hidden = true;
    s.replaceChildren();
  }
}

function summaryOf(form) {
  return form.querySelector('.error-summary');
}

/**
 * Show errors: `errors` is a list of {field, sentence}, field an element, an
 * id or null (an error about the whole form). Each goes next to its field
 * and into the summary; the first field in error (or the summary) is
 * focused. `focus` false leaves the focus alone.
 */
export function showErrors(form, errors, focus = true) {
  const summary = summaryOf(form);
  const items = [];
  let first = null;
  for (const e of errors) {
    const field = e.field ? el(e.field) : null;
    if (field) {
      showFieldError(field, e.sentence);
      first = first || field;
    }
    const li = document.createElement('li');
    if (field) {
      const a = document.createElement('a');
      a.href = '#' + field.id;
      const name = labelOf(field);
      a.textContent = name ? `${name.replace(/[?:.]$/, '')}: ${e.sentence}` : e.sentence;
      li.dataset.for = field.id;
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        focusField(field);
      });
      li.append(a);
    } else {
      li.textContent = e.sentence;
    }
    items.push(li);
  }
  if (summary) {
    const h = document.createElement('h2');
    h.textContent = errors.length === 1 ? 'There is a problem' :
      `There are ${errors.length} problems`;
    const ul = document.createElement('ul');
    ul.append(...items);
    summary.replaceChildren(h, ul);
    summary.hidden = false;
  }
  if (!focus)
    return;
  if (first)
    focusField(first);
  else if (summary)
    summary.focus();
}

/** Focus a field, or the first control of a group. */
export function focusField(field) {
  const target = field.tagName === 'FIELDSET' ?
    field.querySelector('input:checked, input, select, textarea, button') || field : field;
  // A field on a hidden step is revealed by whoever listens.
  field.dispatchEvent(new CustomEvent('reveal', { bubbles: true }));
  target.focus();
  if (target.scrollIntoView)
    target.scrollIntoView({ block: 'center' });
}

/** Mark a form busy (its submit buttons disabled) while `work` runs. */
export async function busy(form, work) {
  const buttons = form.querySelectorAll('button[type="submit"]');
  form.setAttribute('aria-busy', 'true');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    return await work();
  } finally {
    form.removeAttribute('aria-busy');
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/** Say something politely in a live region (`id`). */
export function announce(id, text) {
  const region = el(id);
  if (region)
    region.textContent = text;
}

/**
 * Turn a thrown error into the list showErrors takes: a Problem's field
 * (a JSON pointer, or else the guess of `rules` from its words, see
 * api.js guessField) is looked up in `fields` (pointer -> element id); an
 * unknown pointer, or none, makes an error about the whole form.
 */
export function problemErrors(p, fields, rules) {
  if (!p || typeof p.sentence !== 'string')
    return [{ field: null, sentence: 'Something went wrong on this page: ' +
      (p && p.message ? p.message : String(p)) }];
  const pointer = p.field || guessField(p.detail, rules);
  const id = pointer && fields ? fields[pointer] : null;
  return [{ field: id && document.getElementById(id) ? id : null, sentence: p.sentence }];
}
