import { useEffect, useRef } from "preact/hooks";
import { t } from "../i18n";

/** The view's one <h1>; focused when the view opens (so a screen reader hears where it is) and the
 * document title follows it. */
export function ViewHeading({ title, focusKey }: { title: string; focusKey?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · ${t("app.name")}`;
  }, [title]);
  useEffect(() => {
    ref.current?.focus();
  }, [focusKey]);
  return (
    <h1 ref={ref} tabIndex={-1} id="view-title">
      {title}
    </h1>
  );
}
