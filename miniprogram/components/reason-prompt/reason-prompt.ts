/**
 * The reason an admin gives for an action the audit log keeps it for (waive a debt, mark a finding handled),
 * asked under the item (services/item-actions.ts holds the page's side: `reasonFor`, `reason`,
 * `reasonError`, and the handlers the events go to).
 */
Component({
  props: {
    /** The action's label: 标记已处理 … */
    label: '',
    /** What to write: 请写明原因 … */
    hint: '请写明原因',
    placeholder: '',
    value: '',
    error: '',
    busy: false,
    onInput: undefined as undefined | ((value: string) => void),
    onCancel: undefined as undefined | (() => void),
    onConfirm: undefined as undefined | (() => void),
  },
  methods: {
    onInputChange(value: string) {
      if (this.props.onInput) this.props.onInput(value);
    },
    onCancelTap() {
      if (this.props.onCancel) this.props.onCancel();
    },
    onConfirmTap() {
      if (this.props.onConfirm) this.props.onConfirm();
    },
  },
});
