/** Custodian officers (the custodian's own API and user pool): releases the organisation approved,
 * with their grounds, confirmed or refused with a reason (P3, P7). */

import { useState } from "preact/hooks";
import { custodianApi, RELEASE_REASON_MAX, type ReleaseDecision, type ReleaseView } from "../api/custodian";
import { ApiProblem, asProblem } from "../api/errors";
import { useLoaded } from "../load";
import { Details, Empty, Loading } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { TextArea } from "../components/Fields";
import { LegalOrderDetails } from "../components/Grounds";
import { ViewHeading } from "../components/ViewHeading";
import { dateTime, label, shortId } from "../format";
import { t } from "../i18n";
import { href } from "../routes";
import { announce } from "../status";
import type { ViewProps } from "./types";

function ReleaseTable({ items, caption }: { items: ReleaseView[]; caption: string }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t("releases.received")}</th>
          <th scope="col">{t("col.requestId")}</th>
          <th scope="col">{t("grounds.basis")}</th>
          <th scope="col">{t("releases.approvedBy")}</th>
          <th scope="col">{t("releases.deadline")}</th>
          <th scope="col">{t("col.status")}</th>
          <th scope="col">{t("col.actions")}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((release) => (
          <tr key={release.disclosure_id}>
            <td>{dateTime(release.received_at)}</td>
            <td>
              <code class="id">{release.disclosure_id}</code>
            </td>
            <td>{label("basis", release.basis)}</td>
            <td>{release.approved_by.join(", ")}</td>
            <td>{dateTime(release.deadline)}</td>
            <td>{label("releaseStatus", release.status)}</td>
            <td>
              <a href={href("releases", release.disclosure_id)}>
                {t("releases.open")}
                <span class="visually-hidden"> {release.disclosure_id}</span>
              </a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ReleaseList() {
  const [items, , problem] = useLoaded<ReleaseView[]>(
    () => custodianApi().listReleases().then((result) => result.items),
    [],
  );

  const pending = items?.filter((release) => release.status === "pending") ?? [];
  const others = items?.filter((release) => release.status !== "pending") ?? [];
  return (
    <>
      <ViewHeading title={t("nav.releases")} />
      <p class="hint">{t("releases.explain")}</p>
      <ErrorMessage problem={problem} />
      <section aria-labelledby="releases-pending">
        <h2 id="releases-pending">{t("releases.pending")}</h2>
        {items === null ? (
          problem === null ? <Loading /> : null
        ) : pending.length === 0 ? (
          <Empty>{t("releases.pending.empty")}</Empty>
        ) : (
          <ReleaseTable items={pending} caption={t("releases.pending.caption", { n: pending.length })} />
        )}
      </section>
      {others.length > 0 ? (
        <section aria-labelledby="releases-others">
          <h2 id="releases-others">{t("releases.others")}</h2>
          <ReleaseTable items={others} caption={t("releases.others.caption", { n: others.length })} />
        </section>
      ) : null}
    </>
  );
}

function ReleaseDecisionForm({ release, onDecided }: { release: ReleaseView; onDecided: (next: ReleaseView) => void }) {
  const [reason, setReason] = useState("");
  const [invalid, setInvalid] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  if (release.status !== "pending") return null;

  const decide = async (decision: ReleaseDecision): Promise<void> => {
    const text = reason.trim();
    if (text === "") {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setBusy(true);
    setProblem(null);
    try {
      const next = await custodianApi().decide(release.disclosure_id, decision, text);
      setReason("");
      announce(decision === "confirm" ? t("releases.confirmed") : t("releases.refused"));
      onDecided(next);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="release-decide">
      <h2 id="release-decide">{t("releases.decide")}</h2>
      <div class="message warning">
        <p>{t("releases.confirm.warning")}</p>
      </div>
      <form class="form" onSubmit={(event) => event.preventDefault()}>
        <TextArea
          id="release-reason"
          label={t("releases.reason")}
          hint={t("releases.reason.hint")}
          value={reason}
          onValue={setReason}
          maxLength={RELEASE_REASON_MAX}
          rows={3}
          required
        />
        {invalid ? (
          <p class="message error" role="alert">
            {t("releases.reason.missing")}
          </p>
        ) : null}
        <div class="actions">
          <button type="button" disabled={busy} onClick={() => void decide("confirm")}>
            {t("releases.confirm")}
          </button>{" "}
          <button type="button" class="danger" disabled={busy} onClick={() => void decide("refuse")}>
            {t("releases.refuse")}
          </button>
        </div>
      </form>
      <ErrorMessage problem={problem} />
    </section>
  );
}

function Release({ id }: { id: string }) {
  const [release, setRelease, problem] = useLoaded<ReleaseView>(
    () => custodianApi().getRelease(id),
    [id],
  );

  return (
    <>
      <ViewHeading title={t("releases.detail.title", { id: shortId(id) })} focusKey={id} />
      <p>
        <a href={href("releases")}>{t("releases.back")}</a>
      </p>
      <ErrorMessage problem={problem} />
      {release === null ? (
        problem === null ? <Loading /> : null
      ) : (
        <>
          <p class="status-line">
            {t("col.status")}: <strong>{label("releaseStatus", release.status)}</strong>
          </p>
          <section aria-labelledby="release-grounds">
            <h2 id="release-grounds">{t("releases.grounds")}</h2>
            <Details
              items={[
                [t("col.requestId"), <code class="id">{release.disclosure_id}</code>],
                [t("col.contactId"), <code class="id">{release.contact_id}</code>],
                [t("grounds.basis"), label("basis", release.basis)],
                [t("releases.approvedBy"), release.approved_by.join(", ")],
                [t("releases.approvedAt"), dateTime(release.approved_at)],
                [t("releases.received"), dateTime(release.received_at)],
                [t("releases.deadline"), dateTime(release.deadline)],
              ]}
            />
            {release.grounds.legal_order ? (
              <>
                <h3>{t("grounds.legalOrder")}</h3>
                <LegalOrderDetails order={release.grounds.legal_order} />
              </>
            ) : null}
            {release.grounds.consent ? (
              <>
                <h3>{t("grounds.consent")}</h3>
                <Details
                  items={[
                    [t("grounds.recordedBy"), release.grounds.consent.recorded_by],
                    [t("grounds.recordedAt"), dateTime(release.grounds.consent.recorded_at)],
                  ]}
                />
                <p class="hint">{t("releases.consent.note")}</p>
              </>
            ) : null}
          </section>
          <ReleaseDecisionForm release={release} onDecided={setRelease} />
          {release.decided_by ? (
            <section aria-labelledby="release-decision">
              <h2 id="release-decision">{t("releases.decision")}</h2>
              <Details
                items={[
                  [t("col.decidedBy"), release.decided_by],
                  [t("col.at"), dateTime(release.decided_at)],
                  [t("col.reason"), release.reason ?? "—"],
                  [t("releases.releasedAt"), dateTime(release.released_at)],
                ]}
              />
            </section>
          ) : null}
        </>
      )}
    </>
  );
}

export function Releases({ param }: ViewProps) {
  return param !== "" ? <Release id={param} /> : <ReleaseList />;
}
