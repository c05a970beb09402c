/** Small shared pieces: loading, empty states, details laid out, page buttons. */

import type { ComponentChildren } from "preact";
import { t } from "../i18n";

export function Loading() {
  return (
    <p class="loading" aria-busy="true">
      {t("common.loading")}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** Term–value pairs in a <dl>. Values that are null or empty are shown as "—". */
export function Details({ items }: { items: ReadonlyArray<readonly [string, ComponentChildren]> }) {
  return (
    <dl class="details">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value === null || value === undefined || value === "" ? "—" : value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** "Previous page" / "Next page" for token paging (the API gives only a next token; the console keeps
 * the tokens of the pages before). */
export function Pager(props: {
  page: number;
  hasNext: boolean;
  busy: boolean;
  onPrevious: () => void;
  onNext: () => void;
  label: string;
}) {
  return (
    <nav class="pager" aria-label={props.label}>
      <button type="button" class="secondary" disabled={props.page <= 1 || props.busy} onClick={props.onPrevious}>
        {t("common.previousPage")}
      </button>
      <span class="page-number">{t("common.pageNumber", { n: props.page })}</span>
      <button type="button" class="secondary" disabled={!props.hasNext || props.busy} onClick={props.onNext}>
        {t("common.nextPage")}
      </button>
    </nav>
  );
}
