/** Dutch first, English as a switch: a dictionary (messages.ts) and the current language. */

import { useEffect, useState } from "preact/hooks";
import { en, nl, type MessageKey } from "./messages";

export type Lang = "nl" | "en";
export type { MessageKey };

const dictionaries: Record<Lang, Record<MessageKey, string>> = { nl, en };

let current: Lang = "nl";
const listeners = new Set<(lang: Lang) => void>();

export function lang(): Lang {
  return current;
}

/** Switch the language: the dictionary, `<html lang>`, and every subscriber (the app re-renders). */
export function setLang(next: Lang): void {
  current = next;
  document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
}

/** The current language, re-rendering the component when it changes. */
export function useLang(): Lang {
  const [value, setValue] = useState<Lang>(current);
  useEffect(() => {
    listeners.add(setValue);
    return () => {
      listeners.delete(setValue);
    };
  }, []);
  return value;
}

/** The message `key` in the current language, `{name}` placeholders filled from `params`. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const template = dictionaries[current][key];
  if (params === undefined) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

/** The BCP 47 locale of the current language, for Intl formatting. */
export function locale(): string {
  return current === "nl" ? "nl-NL" : "en-GB";
}

/** Whether `key` is in the dictionary (for labels built from API values). */
export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(nl, key);
}
