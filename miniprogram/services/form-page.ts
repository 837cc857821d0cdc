/**
 * The admin form pages (school settings, a terminal): each keeps its form as people type it, an error under
 * each input (`errors`) and one for the whole form (`formError`). Typing into an input clears what it may
 * have fixed; what the server refuses goes under the input it names, or above the save button.
 */
import { ApiError, messageOf } from './api-error';

/** A form page (a Page's `this`) with the form's data. */
export interface FormPageInstance<Form> {
  data: {
    form: Form | null;
    errors: Partial<Record<keyof Form, string>>;
    formError: string;
  };
  setData(patch: Record<string, unknown>): void;
}

/** A typed value into the form; its input's error and the form's error are cleared. */
export function editField<Form>(page: FormPageInstance<Form>, field: keyof Form, value: unknown): void {
  if (!page.data.form) return;
  page.setData({
    form: { ...page.data.form, [field]: value },
    errors: { ...page.data.errors, [field]: '' },
    formError: '',
  });
}

/**
 * The server's refusal under the input of the field it names (`fieldOf` maps `body.rechargeMinFen` to the
 * input), or as the form's error when it names none the form shows.
 */
export function showServerError<Form>(
  page: FormPageInstance<Form>,
  error: unknown,
  fieldOf: (field: string | undefined) => keyof Form | null,
): void {
  const field = fieldOf(error instanceof ApiError ? error.field : undefined);
  if (field) page.setData({ errors: { ...page.data.errors, [field]: messageOf(error) } });
  else page.setData({ formError: messageOf(error) });
}
