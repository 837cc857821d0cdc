/**
 * The app itself keeps no state: the session lives in storage (services/session.ts) and every page loads
 * what it shows from the BFF, so a page opened from a QR code or after a relaunch works on its own.
 */
App({
  onLaunch(): void {
    // Nothing to prepare: the entry page logs in, where a failed login can be shown with a retry button.
  },
});
