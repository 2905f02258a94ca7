/**
 * Which configuration values must never be shown: in the REST API (`ConfigFile.redacted`) nor in
 * error messages (`Config`'s typed getters).
 */

export const SECRET_MASK = "***";

/** The section ASAB keeps passwords in; every key of it is a secret. */
export const PASSWORDS_SECTION = "passwords";

const SECRET_KEY = /passw(or)?d|secret|token|api_?key/i;

export function isSecret(section: string, key: string): boolean {
  return section === PASSWORDS_SECTION || SECRET_KEY.test(key);
}

/** `mongodb://user:pw@host` → `mongodb://user:***@host`: URLs carry passwords under keys with innocent names. */
export function maskUrlPasswords(value: string): string {
  return value.replace(/(\/\/[^/\s:@]*:)[^/\s@]*@/g, `$1${SECRET_MASK}@`);
}
