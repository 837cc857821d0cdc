/**
 * Roster import (issue 13, owners): pick a CSV or XLSX file where the Alipay client can (my.chooseFileFromDisk:
 * the PC and tablet clients), upload it (my.uploadFile), and read the report — rows added, updated, unchanged,
 * refused with row, field and reason. A large file is imported by a job: the page polls its progress until
 * it is done. Where the client cannot pick files, the page says who can import instead.
 */
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { JsapiFailure, canChooseFileFromDisk, chooseFileFromDisk, toast } from '../../services/jsapi';
import { pollUntil } from '../../services/poll';
import { toRosterReport, type RosterReport } from '../../view-models/admin-operations';

const POLL_INTERVAL_MS = 1000;
const POLL_TIMEOUT_MS = 10 * 60 * 1000;

/** The name the report shows: the picked path's last part (the client's paths end in the file's name). */
function fileNameOf(filePath: string): string {
  const last = filePath.split(/[\\/]/).pop() ?? '';
  return last.split('?')[0] || 'roster';
}

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    canPick: false,
    markMissingAsLeft: false,
    uploading: false,
    report: null as RosterReport | null,
    stopped: false,
  },

  onLoad(query: { schoolId?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '', canPick: canChooseFileFromDisk() });
    return this.load();
  },

  onUnload(): void {
    this.setData({ stopped: true });
  },

  /** The latest import's report, and its progress while a job still imports it. */
  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const { items } = await adminApi.rosterImports(this.data.schoolId);
      const [latest] = items;
      this.setData({ loading: false, report: latest ? toRosterReport(latest) : null });
      if (latest && this.data.report?.isRunning) await this.follow(latest.id);
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  onMarkMissingChange(checked: boolean): void {
    this.setData({ markMissingAsLeft: checked === true });
  },

  async onPickFile(): Promise<void> {
    if (this.data.uploading || this.data.report?.isRunning) return;
    let filePath: string;
    try {
      filePath = await chooseFileFromDisk();
    } catch (error) {
      // The person closed the picker: nothing to say.
      if (error instanceof JsapiFailure) return;
      throw error;
    }
    this.setData({ uploading: true });
    try {
      const view = await adminApi.uploadRoster(
        this.data.schoolId,
        { filePath, fileName: fileNameOf(filePath) },
        this.data.markMissingAsLeft,
      );
      this.setData({ report: toRosterReport(view) });
      if (this.data.report?.isRunning) await this.follow(view.id);
      else
        toast(view.status === 'DONE' ? '导入完成' : '导入失败', view.status === 'DONE' ? 'success' : 'fail');
    } catch (error) {
      toast(messageOf(error), 'fail');
    } finally {
      this.setData({ uploading: false });
    }
  },

  async follow(importId: string): Promise<void> {
    const result = await pollUntil(
      () => adminApi.rosterImport(this.data.schoolId, importId),
      (view) => view.status === 'DONE' || view.status === 'FAILED',
      { intervalMs: POLL_INTERVAL_MS, timeoutMs: POLL_TIMEOUT_MS, isStopped: () => this.data.stopped },
      (view) => this.setData({ report: toRosterReport(view) }),
    );
    if (result.done) toast(result.value?.status === 'DONE' ? '导入完成' : '导入失败');
  },
});
