/** Staff and admins: the line registry. Admins register and change lines; an office line, or a change
 * of kind, channel or address, and retiring a line, is a proposal a second admin decides (P11, four
 * eyes): the pending proposals are listed here to approve or reject. */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { ApiProblem, asProblem, unwrap } from "../api/errors";
import { useLoaded } from "../load";
import { Details, Empty, Loading } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { SelectField, TextField } from "../components/Fields";
import { ViewHeading } from "../components/ViewHeading";
import { useDraft, dropDraft } from "../drafts";
import { dateTime, label } from "../format";
import { t, type MessageKey } from "../i18n";
import { announce } from "../status";
import type { ViewProps } from "./types";

type Line = Schemas["Line"];
type LineIn = Schemas["LineIn"];
type LineChange = Schemas["LineChange"];
type Kind = LineIn["kind"];
type Channel = LineIn["channel"];

const KINDS: readonly Kind[] = ["helpline", "office"];
const CHANNELS: readonly Channel[] = ["voice", "chat", "email"];
const LINE_ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ADDRESS_HINTS: Record<Channel, MessageKey> = {
  voice: "lines.address.hint.voice",
  chat: "lines.address.hint.chat",
  email: "lines.address.hint.email",
};

interface LineForm {
  lineId: string;
  displayName: string;
  kind: Kind;
  channel: Channel;
  address: string;
  dailyLimit: string;
  queue: string;
  /** Editing an existing line (its id is then fixed). */
  existing: boolean;
}

const EMPTY_FORM: LineForm = {
  lineId: "",
  displayName: "",
  kind: "helpline",
  channel: "voice",
  address: "",
  dailyLimit: "",
  queue: "",
  existing: false,
};

function formOf(line: Line): LineForm {
  return {
    lineId: line.line_id,
    displayName: line.display_name,
    kind: line.kind,
    channel: line.channel,
    address: line.address,
    dailyLimit: line.daily_limit === null || line.daily_limit === undefined ? "" : String(line.daily_limit),
    queue: line.queue ?? "",
    existing: true,
  };
}

function LineEditor({ form, setForm, onSaved }: { form: LineForm; setForm: (form: LineForm) => void; onSaved: () => void }) {
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof LineForm>(key: K) => (value: LineForm[K]): void => setForm({ ...form, [key]: value });

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const lineId = form.lineId.trim();
    if (!LINE_ID_RE.test(lineId)) {
      setInvalid(t("lines.lineId.invalid"));
      return;
    }
    const limit = form.dailyLimit.trim();
    if (limit !== "" && !/^[0-9]+$/.test(limit)) {
      setInvalid(t("lines.dailyLimit.invalid"));
      return;
    }
    setInvalid(null);
    setBusy(true);
    setProblem(null);
    setOutcome(null);
    const body: LineIn = {
      display_name: form.displayName.trim(),
      kind: form.kind,
      channel: form.channel,
      address: form.address.trim(),
      daily_limit: limit === "" ? null : Number(limit),
      queue: form.channel === "voice" && form.queue.trim() !== "" ? form.queue.trim() : null,
    };
    try {
      const answer = await unwrap(api().PUT("/lines/{line_id}", { params: { path: { line_id: lineId } }, body }));
      // 202 (a proposal, LineChangeAccepted) or 200 (the line as stored).
      const message = "change_id" in answer ? t("lines.proposed") : t("lines.saved", { id: lineId });
      setOutcome(message);
      announce(message);
      setForm(EMPTY_FORM);
      dropDraft("lines.form");
      onSaved();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="line-editor">
      <h2 id="line-editor">{form.existing ? t("lines.edit", { id: form.lineId }) : t("lines.new")}</h2>
      <div class="message info">
        <p>{t("lines.fourEyes.explain")}</p>
      </div>
      <form class="form" onSubmit={(event) => void submit(event)}>
        <TextField
          id="line-id"
          label={t("lines.lineId")}
          hint={t("lines.lineId.hint")}
          value={form.lineId}
          onValue={set("lineId")}
          pattern="[a-z0-9][a-z0-9\-]{0,62}"
          maxLength={63}
          spellcheck={false}
          disabled={form.existing}
          required
        />
        <TextField
          id="line-name"
          label={t("lines.displayName")}
          value={form.displayName}
          onValue={set("displayName")}
          maxLength={80}
          required
        />
        <SelectField
          id="line-kind"
          label={t("lines.kind")}
          hint={t("lines.kind.hint")}
          value={form.kind}
          onValue={(value) => set("kind")(KINDS.find((item) => item === value) ?? form.kind)}
          options={KINDS.map((item) => ({ value: item, label: label("kind", item) }))}
        />
        <SelectField
          id="line-channel"
          label={t("lines.channel")}
          value={form.channel}
          onValue={(value) => set("channel")(CHANNELS.find((item) => item === value) ?? form.channel)}
          options={CHANNELS.map((item) => ({ value: item, label: label("channel", item) }))}
        />
        <TextField
          id="line-address"
          label={t("lines.address")}
          hint={t(ADDRESS_HINTS[form.channel])}
          value={form.address}
          onValue={set("address")}
          maxLength={254}
          spellcheck={false}
          required
        />
        <TextField
          id="line-limit"
          label={t("lines.dailyLimit")}
          hint={t("lines.dailyLimit.hint")}
          type="number"
          min={1}
          max={50}
          value={form.dailyLimit}
          onValue={set("dailyLimit")}
        />
        {form.channel === "voice" ? (
          <TextField
            id="line-queue"
            label={t("lines.queue")}
            hint={t("lines.queue.hint")}
            value={form.queue}
            onValue={set("queue")}
            pattern="[A-Za-z0-9_\-]{1,64}"
            maxLength={64}
            spellcheck={false}
          />
        ) : null}
        {invalid !== null ? (
          <p class="message error" role="alert">
            {invalid}
          </p>
        ) : null}
        <div class="actions">
          <button type="submit" disabled={busy}>
            {t("lines.save")}
          </button>{" "}
          {form.existing || form.lineId !== "" ? (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setForm(EMPTY_FORM);
                dropDraft("lines.form");
              }}
            >
              {t("lines.newInstead")}
            </button>
          ) : null}
        </div>
      </form>
      <ErrorMessage problem={problem} />
      {outcome !== null ? (
        <div class="message success">
          <p>{outcome}</p>
        </div>
      ) : null}
    </section>
  );
}

function LineTable({
  lines,
  admin,
  onEdit,
  onRetire,
}: {
  lines: Line[];
  admin: boolean;
  onEdit: (line: Line) => void;
  onRetire: (line: Line) => void;
}) {
  return (
    <table>
      <caption>{t("lines.caption", { n: lines.length })}</caption>
      <thead>
        <tr>
          <th scope="col">{t("lines.lineId")}</th>
          <th scope="col">{t("lines.displayName")}</th>
          <th scope="col">{t("lines.kind")}</th>
          <th scope="col">{t("lines.channel")}</th>
          <th scope="col">{t("lines.address")}</th>
          <th scope="col">{t("lines.dailyLimitShort")}</th>
          <th scope="col">{t("lines.queueShort")}</th>
          <th scope="col">{t("col.updated")}</th>
          {admin ? <th scope="col">{t("col.actions")}</th> : null}
        </tr>
      </thead>
      <tbody>
        {lines.map((line) => (
          <tr key={line.line_id}>
            <th scope="row">
              <code>{line.line_id}</code>
            </th>
            <td>{line.display_name}</td>
            <td>{label("kind", line.kind)}</td>
            <td>{label("channel", line.channel)}</td>
            <td>
              <code class="id">{line.address}</code>
            </td>
            <td class="number">{line.daily_limit ?? t("lines.defaultLimit")}</td>
            <td>{line.queue ?? "—"}</td>
            <td>
              {dateTime(line.updated_at)}
              <br />
              <span class="hint">{line.updated_by}</span>
            </td>
            {admin ? (
              <td class="row-actions">
                <button type="button" class="secondary small" onClick={() => onEdit(line)}>
                  {t("lines.editButton")}
                  <span class="visually-hidden"> {line.line_id}</span>
                </button>{" "}
                <button type="button" class="danger small" onClick={() => onRetire(line)}>
                  {t("lines.retireButton")}
                  <span class="visually-hidden"> {line.line_id}</span>
                </button>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RetireConfirm({ line, onDone, onCancel }: { line: Line; onDone: () => void; onCancel: () => void }) {
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), [line.line_id]);

  const retire = async (): Promise<void> => {
    setBusy(true);
    setProblem(null);
    try {
      await unwrap(api().DELETE("/lines/{line_id}", { params: { path: { line_id: line.line_id } } }));
      announce(t("lines.retireProposed", { id: line.line_id }));
      onDone();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="message warning" aria-labelledby="retire-title">
      <h2 id="retire-title" tabIndex={-1} ref={ref}>
        {t("lines.retire.title", { id: line.line_id })}
      </h2>
      <p>{t("lines.retire.explain")}</p>
      <button type="button" class="danger" disabled={busy} onClick={() => void retire()}>
        {t("lines.retire.confirm")}
      </button>{" "}
      <button type="button" class="secondary" onClick={onCancel}>
        {t("common.cancel")}
      </button>
      <ErrorMessage problem={problem} />
    </section>
  );
}

function lineSummary(line: LineIn | Line | null | undefined): string {
  if (line === null || line === undefined) return "—";
  const limit = line.daily_limit ?? null;
  return [
    line.display_name,
    label("kind", line.kind),
    label("channel", line.channel),
    line.address,
    limit !== null ? t("lines.summary.limit", { n: limit }) : null,
    line.queue ? t("lines.summary.queue", { q: line.queue }) : null,
  ]
    .filter((part) => part !== null)
    .join(" · ");
}

function ChangeDecision({ change, me, onDecided }: { change: LineChange; me: string; onDecided: () => void }) {
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [invalid, setInvalid] = useState(false);
  const [busy, setBusy] = useState(false);
  const own = change.proposed_by === me;
  const path = { params: { path: { change_id: change.change_id } } };

  const approve = async (): Promise<void> => {
    setBusy(true);
    setProblem(null);
    try {
      await unwrap(api().POST("/lines/changes/{change_id}/approve", path));
      announce(t("lines.change.approved", { id: change.line_id }));
      onDecided();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  const reject = async (): Promise<void> => {
    if (reason.trim() === "") {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setBusy(true);
    setProblem(null);
    try {
      await unwrap(api().POST("/lines/changes/{change_id}/reject", { ...path, body: { reason: reason.trim() } }));
      announce(own ? t("lines.change.withdrawn", { id: change.line_id }) : t("lines.change.rejected", { id: change.line_id }));
      onDecided();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  const fieldId = `change-reason-${change.change_id}`;
  return (
    <article class="card" aria-labelledby={`change-${change.change_id}`}>
      <h3 id={`change-${change.change_id}`}>
        {t("lines.change.title", { action: label("changeAction", change.action), id: change.line_id })}
      </h3>
      <Details
        items={[
          [t("lines.change.reasons"), change.reasons.map((reason) => label("changeReason", reason)).join("; ")],
          [t("lines.change.before"), lineSummary(change.before)],
          [t("lines.change.after"), change.action === "retire" ? t("lines.change.retired") : lineSummary(change.after)],
          [t("lines.change.proposedBy"), `${change.proposed_by} · ${dateTime(change.proposed_at)}`],
        ]}
      />
      {own ? <p class="hint">{t("lines.change.own")}</p> : null}
      <div class="field">
        <label for={fieldId}>{own ? t("lines.change.withdrawReason") : t("lines.change.rejectReason")}</label>
        <textarea
          id={fieldId}
          rows={2}
          maxLength={500}
          value={reason}
          onInput={(event) => setReason(event.currentTarget.value)}
        />
      </div>
      {invalid ? (
        <p class="message error" role="alert">
          {t("lines.change.reasonMissing")}
        </p>
      ) : null}
      <div class="actions">
        {!own ? (
          <button type="button" disabled={busy} onClick={() => void approve()}>
            {t("lines.change.approve")}
          </button>
        ) : null}{" "}
        <button type="button" class="danger" disabled={busy} onClick={() => void reject()}>
          {own ? t("lines.change.withdraw") : t("lines.change.reject")}
        </button>
      </div>
      <ErrorMessage problem={problem} />
    </article>
  );
}

function Changes({ me, refresh, onDecided }: { me: string; refresh: number; onDecided: () => void }) {
  const [changes, , problem] = useLoaded<LineChange[]>(
    () => unwrap(api().GET("/lines/changes")).then((result) => result.items),
    [refresh],
  );

  const pending = changes?.filter((change) => change.status === "pending") ?? [];
  const decided = changes?.filter((change) => change.status !== "pending") ?? [];
  return (
    <section aria-labelledby="line-changes">
      <h2 id="line-changes">{t("lines.changes")}</h2>
      <ErrorMessage problem={problem} />
      {changes === null ? (
        problem === null ? <Loading /> : null
      ) : pending.length === 0 ? (
        <Empty>{t("lines.changes.empty")}</Empty>
      ) : (
        pending.map((change) => <ChangeDecision key={change.change_id} change={change} me={me} onDecided={onDecided} />)
      )}
      {decided.length > 0 ? (
        <details>
          <summary>{t("lines.changes.decided", { n: decided.length })}</summary>
          <table>
            <caption>{t("lines.changes.decidedCaption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("lines.lineId")}</th>
                <th scope="col">{t("col.action")}</th>
                <th scope="col">{t("col.status")}</th>
                <th scope="col">{t("lines.change.proposedBy")}</th>
                <th scope="col">{t("col.decidedBy")}</th>
                <th scope="col">{t("col.reason")}</th>
              </tr>
            </thead>
            <tbody>
              {decided.map((change) => (
                <tr key={change.change_id}>
                  <th scope="row">
                    <code>{change.line_id}</code>
                  </th>
                  <td>{label("changeAction", change.action)}</td>
                  <td>{label("changeStatus", change.status)}</td>
                  <td>
                    {change.proposed_by} · {dateTime(change.proposed_at)}
                  </td>
                  <td>
                    {change.decided_by ?? "—"}
                    {change.decided_at ? ` · ${dateTime(change.decided_at)}` : ""}
                  </td>
                  <td>{change.reason ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </section>
  );
}

export function Lines({ session }: ViewProps) {
  const admin = session.groups.has("admin");
  const [refresh, setRefresh] = useState(0);
  const [form, setForm] = useDraft<LineForm>("lines.form", EMPTY_FORM);
  const [retiring, setRetiring] = useState<Line | null>(null);
  const editorRef = useRef<HTMLDivElement>(null);
  const [lines, , problem] = useLoaded<Line[]>(
    () => unwrap(api().GET("/lines")).then((result) => result.items),
    [refresh],
  );

  const reload = (): void => setRefresh((n) => n + 1);
  return (
    <>
      <ViewHeading title={t("nav.lines")} />
      <p class="hint">{t("lines.explain")}</p>
      <section aria-labelledby="line-registry">
        <h2 id="line-registry">{t("lines.registry")}</h2>
        <ErrorMessage problem={problem} />
        {lines === null ? (
          problem === null ? <Loading /> : null
        ) : lines.length === 0 ? (
          <Empty>{t("lines.empty")}</Empty>
        ) : (
          <LineTable
            lines={lines}
            admin={admin}
            onEdit={(line) => {
              setForm(formOf(line));
              editorRef.current?.querySelector<HTMLInputElement>("#line-name")?.focus();
            }}
            onRetire={setRetiring}
          />
        )}
      </section>
      {admin && retiring !== null ? (
        <RetireConfirm
          line={retiring}
          onCancel={() => setRetiring(null)}
          onDone={() => {
            setRetiring(null);
            reload();
          }}
        />
      ) : null}
      {admin ? (
        <div ref={editorRef}>
          <LineEditor form={form} setForm={setForm} onSaved={reload} />
        </div>
      ) : null}
      {admin ? <Changes me={session.username} refresh={refresh} onDecided={reload} /> : null}
    </>
  );
}
