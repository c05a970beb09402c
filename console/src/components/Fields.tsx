/** Form fields with a <label for> each, a hint tied by aria-describedby, native controls only. */

import type { ComponentChildren } from "preact";

interface Common {
  id: string;
  label: string;
  hint?: string;
  required?: boolean;
}

function Hint({ id, hint }: { id: string; hint?: string }) {
  return hint !== undefined ? (
    <p class="hint" id={`${id}-hint`}>
      {hint}
    </p>
  ) : null;
}

function describedBy(id: string, hint?: string): string | undefined {
  return hint !== undefined ? `${id}-hint` : undefined;
}

export function TextField(
  props: Common & {
    value: string;
    onValue: (value: string) => void;
    type?: "text" | "date" | "datetime-local" | "number" | "password" | "search";
    pattern?: string;
    maxLength?: number;
    min?: string | number;
    max?: string | number;
    autoComplete?: string;
    inputMode?: "text" | "numeric" | "decimal";
    spellcheck?: boolean;
    disabled?: boolean;
  },
) {
  const { id, label, hint, value, onValue, type = "text" } = props;
  return (
    <div class="field">
      <label for={id}>
        {label}
      </label>
      <Hint id={id} hint={hint} />
      <input
        id={id}
        name={id}
        type={type}
        value={value}
        required={props.required}
        pattern={props.pattern}
        maxLength={props.maxLength}
        min={props.min}
        max={props.max}
        autoComplete={props.autoComplete ?? "off"}
        inputMode={props.inputMode}
        spellcheck={props.spellcheck}
        disabled={props.disabled}
        aria-describedby={describedBy(id, hint)}
        onInput={(event) => onValue(event.currentTarget.value)}
      />
    </div>
  );
}

export function TextArea(
  props: Common & {
    value: string;
    onValue: (value: string) => void;
    maxLength?: number;
    rows?: number;
    counter?: (length: number) => string;
  },
) {
  const { id, label, hint, value, onValue } = props;
  const counterId = `${id}-count`;
  const described = [describedBy(id, hint), props.counter !== undefined ? counterId : undefined]
    .filter((part) => part !== undefined)
    .join(" ");
  return (
    <div class="field">
      <label for={id}>
        {label}
      </label>
      <Hint id={id} hint={hint} />
      <textarea
        id={id}
        name={id}
        value={value}
        required={props.required}
        maxLength={props.maxLength}
        rows={props.rows ?? 5}
        aria-describedby={described === "" ? undefined : described}
        onInput={(event) => onValue(event.currentTarget.value)}
      />
      {props.counter !== undefined ? (
        <p class="hint counter" id={counterId}>
          {props.counter(value.length)}
        </p>
      ) : null}
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(
  props: Common & { value: string; onValue: (value: string) => void; options: readonly Option[] },
) {
  const { id, label, hint, value, onValue, options } = props;
  return (
    <div class="field">
      <label for={id}>
        {label}
      </label>
      <Hint id={id} hint={hint} />
      <select
        id={id}
        name={id}
        value={value}
        required={props.required}
        aria-describedby={describedBy(id, hint)}
        onChange={(event) => onValue(event.currentTarget.value)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Radio buttons in a <fieldset> with a <legend>; each radio has its own <label for>. */
export function RadioGroup(
  props: {
    name: string;
    legend: string;
    hint?: string;
    value: string;
    onValue: (value: string) => void;
    options: readonly Option[];
    required?: boolean;
  },
) {
  const { name, legend, hint, value, onValue, options } = props;
  return (
    <fieldset class="field radios" aria-describedby={hint !== undefined ? `${name}-hint` : undefined}>
      <legend>
        {legend}
      </legend>
      <Hint id={name} hint={hint} />
      {options.map((option) => {
        const id = `${name}-${option.value}`;
        return (
          <div class="radio" key={option.value}>
            <input
              type="radio"
              id={id}
              name={name}
              value={option.value}
              checked={value === option.value}
              required={props.required}
              onChange={() => onValue(option.value)}
            />
            <label for={id}>{option.label}</label>
          </div>
        );
      })}
    </fieldset>
  );
}

/** A labelled group of fields (a <fieldset> with a <legend>). */
export function Group({ legend, children }: { legend: string; children: ComponentChildren }) {
  return (
    <fieldset class="group">
      <legend>{legend}</legend>
      {children}
    </fieldset>
  );
}
