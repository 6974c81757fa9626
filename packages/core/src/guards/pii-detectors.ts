/**
 * The PII detectors of pii.ts, one per kind: each looks for structure, then validates it (a checksum, a
 * number range, the words before it), and appends what it found to `out`. Linear time: matches start at
 * the beginning of a run (look-behind), quantifiers are bounded, emails are found from their `@`.
 */
import { isIPv4, isIPv6 } from 'node:net';
import creditCardType from 'credit-card-type';
import { getCountrySpecifications, isValidIBAN } from 'ibantools';
import type { PiiFinding } from './pii.js';
import { allMatches } from './walk.js';

// ---------------------------------------------------------------------------------------------------
// Emails: found from each `@`, expanded over the local part (≤ 64) and the domain (≤ 253).

const LOCAL_CHAR = /[A-Za-z0-9._%+'-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
const FILE_TLDS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'pdf', 'js', 'ts', 'css']);

export function detectEmails(text: string, out: PiiFinding[]): void {
  let at = text.indexOf('@');
  while (at !== -1) {
    let start = at;
    while (start > 0 && at - start < 64 && LOCAL_CHAR.test(text[start - 1] as string)) start--;
    let end = at + 1;
    while (end < text.length && end - at <= 253 && DOMAIN_CHAR.test(text[end] as string)) end++;
    // Trim what punctuation ends: a sentence's period, a quote's apostrophe.
    while (start < at && /[.'-]/.test(text[start] as string)) start++;
    while (end > at + 1 && /[.-]/.test(text[end - 1] as string)) end--;
    if (start < at && validEmail(text.slice(start, at), text.slice(at + 1, end))) {
      out.push({ kind: 'email', start, end });
    }
    at = text.indexOf('@', at + 1);
  }
}

function validEmail(local: string, domain: string): boolean {
  if (local.includes('..') || local.endsWith('.')) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  const tld = labels.at(-1) as string;
  if (!/^[A-Za-z]{2,24}$/.test(tld)) return false;
  // `icon@2x.png` is a file name, not an address.
  if (FILE_TLDS.has(tld.toLowerCase()) && /^\d+x$/i.test(labels[0] as string)) return false;
  return labels.every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

// ---------------------------------------------------------------------------------------------------
// Phone numbers. International numbers start with `+` (or `00`) and a country code; US numbers need
// their separators (`(415) 555-2671`, `415-555-2671`, `415.555.2671`) and valid NANP area and exchange
// codes; national numbers with a trunk 0 need separators too (`020 7946 0958`, `01 23 45 67 89`).
// A bare digit run is a phone number only when a word like "phone" or "call" stands just before it.

const INTERNATIONAL =
  /(?:(?<![\w+])\+|(?<![\w+]|\d[ .-])00)[1-9]\d{0,3}(?:[ .-]?\(\d{1,5}\)\d{0,8}|[ .-]\d{1,8}){1,7}(?![\w]|[.-]?\d)/g;
const E164 = /(?<![\w+])\+[1-9]\d{7,14}(?![\w])/g;
const US =
  /(?<![\w+(.-])(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w]|[.\-/]\w)/g;
const NATIONAL =
  /(?<![\w+(.\-/]|\d[ .\-/])(?:\(0[1-9]\d{0,4}\)|0[1-9]\d{0,4})(?:[ .\-/]\d{2,8}){1,4}(?![\w]|[ .\-/]?\w)/g;
const BARE = /(?<![\w+.-])\+?\d{10,13}(?![\w]|[.-]\d)/g;
const PHONE_CONTEXT =
  /(?:phone|tel|telephone|mobile|cell|fax|call|sms|whatsapp|ph)\.?\s*(?:(?:no|number|#)\.?\s*)?(?:[:#]|is|at|me at|me on|on)?\s*$/i;
/** Words before a number that make it an identifier, not a phone number. */
const NOT_PHONE_CONTEXT =
  /(?:order|invoice|sku|part|model|serial|item|ref|reference|ticket|tracking|account|acct|case|isbn|id|po|lot|batch|code|no\.|#)\.?\s*(?:(?:no|number|num|#|id)\.?\s*)?[:#]?\s*$/i;

function digitsOf(text: string): string {
  return text.replace(/\D/g, '');
}

function nanpValid(ten: string): boolean {
  if (ten.length !== 10) return false;
  const area = ten.slice(0, 3);
  const exchange = ten.slice(3, 6);
  if (!/^[2-9]\d\d$/.test(area) || !/^[2-9]\d\d$/.test(exchange)) return false;
  return !(area[1] === '1' && area[2] === '1');
}

function before(text: string, index: number, length = 24): string {
  return text.slice(Math.max(0, index - length), index);
}

/** A word like "order" or "SKU" just before, and no phone word: an identifier, not a phone number. */
function identifierContext(text: string, index: number): boolean {
  const preceding = before(text, index);
  return !PHONE_CONTEXT.test(preceding) && NOT_PHONE_CONTEXT.test(preceding);
}

export function detectPhones(text: string, out: PiiFinding[]): void {
  const push = (start: number, end: number, note: string) => out.push({ kind: 'phone', start, end, note });
  for (const match of allMatches(INTERNATIONAL, text)) {
    const digits = digitsOf(match[0].startsWith('00') ? match[0].slice(2) : match[0]);
    if (digits.length < 8 || digits.length > 15) continue;
    if (digits.startsWith('1') && !nanpValid(digits.slice(1))) continue;
    push(match.index, match.index + match[0].length, 'international');
  }
  for (const match of allMatches(E164, text)) {
    const digits = match[0].slice(1);
    if (digits.startsWith('1') && !nanpValid(digits.slice(1))) continue;
    push(match.index, match.index + match[0].length, 'international');
  }
  for (const match of allMatches(US, text)) {
    let digits = digitsOf(match[0]);
    if (digits.length === 11) digits = digits.slice(1);
    if (!nanpValid(digits)) continue;
    if (!match[0].startsWith('+') && identifierContext(text, match.index)) continue;
    push(match.index, match.index + match[0].length, 'US');
  }
  for (const match of allMatches(NATIONAL, text)) {
    const digits = digitsOf(match[0]);
    if (digits.length < 10 || digits.length > 12) continue;
    if (identifierContext(text, match.index)) continue;
    push(match.index, match.index + match[0].length, 'national');
  }
  for (const match of allMatches(BARE, text)) {
    if (!PHONE_CONTEXT.test(before(text, match.index))) continue;
    const digits = digitsOf(match[0]);
    const us = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
    if (us.length === 10 && !nanpValid(us) && !match[0].startsWith('+')) continue;
    push(match.index, match.index + match[0].length, 'after a phone keyword');
  }
}

// ---------------------------------------------------------------------------------------------------
// Payment cards: 13–19 digits, grouped as cards are printed (or not at all), passing Luhn and matching
// a card network's number range and length (credit-card-type: Visa, Mastercard, Amex, Discover, JCB,
// UnionPay, Maestro, Diners, Mir, Elo, ...).

const CARD = /(?<!\d[ -]?)\d(?:[ -]?\d){12,18}(?![ -]?\d)/g;

/** Luhn (mod 10) check of a digit string. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index--) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The card network of a full card number (Luhn-valid, known range and length), or undefined. */
export function cardBrand(number: string): string | undefined {
  const digits = number.replace(/[ -]/g, '');
  if (digits.length < 12 || digits.length > 19 || !luhnValid(digits)) return undefined;
  const brand = creditCardType(digits).find((type) => type.lengths.includes(digits.length));
  return brand?.niceType;
}

function cardGrouping(candidate: string): boolean {
  const groups = candidate.split(/[ -]/);
  if (groups.length === 1) return true;
  const separators = new Set(candidate.replace(/\d/g, ''));
  if (separators.size !== 1) return false;
  const lengths = groups.map((group) => group.length);
  const shape = lengths.join('-');
  if (['4-6-5', '4-6-4', '4-4-5', '6-13', '4-4-4-4-3'].includes(shape)) return true;
  // 4-4-4-4, 4-4-4-1..4 and 4-4-4-4-1..3.
  return lengths.slice(0, -1).every((length) => length === 4) && (lengths.at(-1) as number) <= 4;
}

export function detectCards(text: string, out: PiiFinding[]): void {
  for (const match of allMatches(CARD, text)) {
    if (!cardGrouping(match[0])) continue;
    const brand = cardBrand(match[0]);
    if (brand)
      out.push({
        kind: 'credit_card',
        start: match.index,
        end: match.index + match[0].length,
        note: `${brand}, Luhn valid`,
      });
  }
}

// ---------------------------------------------------------------------------------------------------
// US Social Security numbers: AAA-GG-SSSS (or spaced), never area 000, 666 or 9xx, group 00 or serial
// 0000. Nine bare digits count only after "SSN" or "social security".

const SSN = /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d]|-\d)/g;
const SSN_BARE = /(?<![\w-])\d{9}(?![\w]|-\d)/g;
const SSN_CONTEXT =
  /(?:ssn|ss#|social security(?: number| no\.?| #)?|soc\.? sec\.?)\s*(?:#|no\.?|number)?\s*[:#]?\s*(?:is\s*)?$/i;

export function ssnValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  if (area === '000' || area === '666' || area[0] === '9') return false;
  return digits.slice(3, 5) !== '00' && digits.slice(5) !== '0000';
}

export function detectSsns(text: string, out: PiiFinding[]): void {
  for (const match of allMatches(SSN, text)) {
    if (ssnValid(`${match[1]}${match[3]}${match[4]}`)) {
      out.push({ kind: 'us_ssn', start: match.index, end: match.index + match[0].length });
    }
  }
  for (const match of allMatches(SSN_BARE, text)) {
    if (ssnValid(match[0]) && SSN_CONTEXT.test(before(text, match.index, 32))) {
      out.push({
        kind: 'us_ssn',
        start: match.index,
        end: match.index + match[0].length,
        note: 'after "SSN"',
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// IBAN: a country code, two check digits, then exactly the country's length of characters (single
// spaces allowed between them), validated by ibantools (length, BBAN format and the mod-97 checksum).

const IBAN_START = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?= ?[A-Za-z0-9])/g;
let ibanLengths: Map<string, number> | undefined;

function ibanLength(country: string): number | undefined {
  if (!ibanLengths) {
    ibanLengths = new Map();
    for (const [code, spec] of Object.entries(getCountrySpecifications())) {
      if (spec.chars) ibanLengths.set(code, spec.chars);
    }
  }
  return ibanLengths.get(country);
}

function isAlphanumeric(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** ISO 7064 mod 97-10 of an IBAN (country and check digits moved to the end): 1 when valid. */
function mod97(iban: string): number {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let index = 0; index < rearranged.length; index++) {
    const code = rearranged.charCodeAt(index);
    const value = code <= 57 ? code - 48 : code - 55;
    remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder;
}

export function detectIbans(text: string, out: PiiFinding[]): void {
  for (const match of allMatches(IBAN_START, text)) {
    const length = ibanLength(match[0].slice(0, 2));
    if (!length) continue;
    let compact = '';
    let index = match.index;
    while (index < text.length && compact.length < length) {
      const code = text.charCodeAt(index);
      if (isAlphanumeric(code)) compact += text[index];
      else if (!(code === 32 && isAlphanumeric(text.charCodeAt(index + 1)) && compact.length >= 4)) break;
      index++;
    }
    if (compact.length !== length || isAlphanumeric(text.charCodeAt(index))) continue;
    const iban = compact.toUpperCase();
    if (mod97(iban) === 1 && isValidIBAN(iban)) {
      out.push({ kind: 'iban', start: match.index, end: index, note: 'checksum valid' });
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// IP addresses. IPv4 is four decimal octets, not part of a longer dotted number, and not after words
// like "version" or "section" (`version 1.2.3.4`). IPv6 is validated by node:net and must carry a
// digit and two groups (`std::vector`, `12:30:45` and `::1` are not flagged).

const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g;
const IPV6 = /(?<![\w:.])[0-9A-Fa-f:]{2,39}(?:\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)/g;
const VERSION_CONTEXT =
  /(?:version|ver|release|build|firmware|fw|rev|revision|section|sec|chapter|clause|rule|step|v|§)\.?\s*[:=#]?\s*$/i;

export function detectIps(text: string, out: PiiFinding[]): void {
  for (const match of allMatches(IPV4, text)) {
    if (!isIPv4(match[0]) || VERSION_CONTEXT.test(before(text, match.index, 16))) continue;
    // A network in CIDR notation (`10.0.0.0/8`) is a range, not somebody's address.
    if (match[0].endsWith('.0') && /^\/\d{1,2}(?!\d)/.test(text.slice(match.index + match[0].length)))
      continue;
    out.push({ kind: 'ip_address', start: match.index, end: match.index + match[0].length, note: 'IPv4' });
  }
  for (const match of allMatches(IPV6, text)) {
    const candidate = match[0];
    if (!candidate.includes(':') || !/\d/.test(candidate) || !isIPv6(candidate)) continue;
    const groups = candidate.split(':').filter((group) => group !== '');
    if (groups.length < 2) continue;
    out.push({ kind: 'ip_address', start: match.index, end: match.index + candidate.length, note: 'IPv6' });
  }
}
