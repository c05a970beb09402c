/** The polite live region's message (the app renders it once, in role="status"). */

import { useEffect, useState } from "preact/hooks";

let message = "";
const listeners = new Set<(text: string) => void>();

/** Say `text` to screen readers and show it in the status bar. */
export function announce(text: string): void {
  // Clear first, so the same sentence twice is announced twice.
  message = "";
  for (const listener of listeners) listener("");
  window.setTimeout(() => {
    message = text;
    for (const listener of listeners) listener(text);
  }, 50);
}

export function useAnnouncement(): string {
  const [text, setText] = useState(message);
  useEffect(() => {
    listeners.add(setText);
    return () => {
      listeners.delete(setText);
    };
  }, []);
  return text;
}
