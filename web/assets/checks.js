// checks.js - early feedback while typing: a mirror of some of the server's
// rules (src/ra/validate.c, src/ra/secret.c), worded as the server words
// them. Each check returns null (fine as far as this page can tell) or a
// sentence. The server still decides: a value these pass may be refused, and
// its answer is what the page shows then.

/** US NPI: 10 digits, Luhn check digit over "80840" and the first nine. */
export function npiProblem(v) {
  if (!/^[0-9]{10}$/.test(v))
    return 'The NPI must be exactly 10 digits.';
  const digits = '80840' + v.slice(0, 9);
  let sum = 0;
  for (let k = 0; k < digits.length; k++) {
    let d = digits.charCodeAt(digits.length - 1 - k) - 48;
    if (k % 2 === 0) {
      d *= 2;
      if (d > 9)
        d -= 9;
    }
    sum += d;
  }
  const check = (10 - (sum % 10)) % 10;
  return check === v.charCodeAt(9) - 48 ? null : 'The NPI\'s check digit is wrong.';
}

const DEA_TYPES = 'ABCDEFGHJKLMPRSTUX';

/** DEA registration number: type letter, initial of the family name (or 9),
 * seven digits with a check digit. */
export function deaProblem(v, familyName) {
  if (!/^[A-Z][A-Z9][0-9]{7}$/.test(v))
    return 'The DEA number must be two capital letters and seven digits, like AB1234563.';
  if (!DEA_TYPES.includes(v[0]))
    return 'The DEA number\'s first letter is not a DEA registrant type.';
  const initial = (familyName || '').replace(/^ +/, '').charAt(0).toUpperCase();
  if (v[1] !== '9' && /^[A-Z]$/.test(initial) && initial !== v[1])
    return 'The DEA number\'s second letter is not the initial of the last name.';
  const d = Array.from(v.slice(2), (c) => c.charCodeAt(0) - 48);
  const sum = d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5]);
  return sum % 10 === d[6] ? null : 'The DEA number\'s check digit is wrong.';
}

/** Date of birth: YYYY-MM-DD, a calendar date, age 16 to 130 today (UTC). */
export function dateOfBirthProblem(v, now = new Date()) {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(v);
  if (!m)
    return 'The date of birth must be written YYYY-MM-DD.';
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (mo < 1 || mo > 12 || d < 1 || date.getUTCFullYear() !== y ||
      date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d)
    return 'The date of birth is not a calendar date.';
  const ty = now.getUTCFullYear(), tm = now.getUTCMonth() + 1, td = now.getUTCDate();
  if (y > ty || (y === ty && (mo > tm || (mo === tm && d > td))))
    return 'The date of birth is in the future.';
  const age = ty - y - (tm < mo || (tm === mo && td < d) ? 1 : 0);
  if (age < 16)
    return 'The date of birth makes the applicant younger than 16.';
  if (age > 130)
    return 'The date of birth makes the applicant older than 130.';
  return null;
}

/** The shape of one email address (the server checks it fully). */
export function emailProblem(v) {
  if (v === '')
    return 'The email address is missing.';
  if (v.length > 254)
    return 'The email address is longer than 254 characters.';
  if (!/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(v))
    return 'The email address is not valid: write it like name@example.org.';
  return null;
}

/** Characters as the server counts them (Unicode code points). */
export function charCount(s) {
  return Array.from(s).length;
}

// Words of a context string as the server tries them: whole, and split at
// ASCII punctuation and spaces; only pieces of 4 characters or more count.
function contextWords(s) {
  const words = [s, ...s.split(/[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/)];
  return words.filter((w) => charCount(w) >= 4).map((w) => w.toLowerCase());
}

/**
 * The password rules a page can mirror: at least 8 characters; not
 * containing the applicant's name, email address or the service's name.
 * (The list of common passwords and the repetition rule are the server's.)
 */
export function passwordProblem(pw, context = []) {
  if (pw === '')
    return 'Choose a password.';
  if (charCount(pw) < 8)
    return 'The password is shorter than 8 characters.';
  const low = pw.toLowerCase();
  for (const c of [...context, 'tessera'])
    for (const w of contextWords(c || ''))
      if (low.includes(w))
        return 'The password contains your name, your email address or the name of this service.';
  return null;
}

/** Feedback on length while typing (never a rule, never a verdict: the
 * common-password list and the repetition rule are the server's). */
export function passwordStrength(pw) {
  const n = charCount(pw);
  if (n === 0)
    return '';
  if (n < 8)
    return `${n} characters: at least 8 are needed.`;
  if (n < 16)
    return `${n} characters: long enough. Longer is stronger: a few unrelated words are best.`;
  return `${n} characters: long. A long phrase of unrelated words is a strong password.`;
}
