/**
 * The loading, error and empty states every page has, in one place: the page passes its flags and gets
 * its own content (the slot) only when none of them applies.
 */
Component({
  props: {
    loading: false,
    loadingText: '正在加载…',
    errorMessage: '',
    isEmpty: false,
    emptyTitle: '这里还没有内容',
    emptyMessage: '',
    actionText: '',
    onRetry: undefined as undefined | (() => void),
    onAction: undefined as undefined | (() => void),
  },
  methods: {
    onRetryTap() {
      if (this.props.onRetry) this.props.onRetry();
    },
    onActionTap() {
      if (this.props.onAction) this.props.onAction();
    },
  },
});
