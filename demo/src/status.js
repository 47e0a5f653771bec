// The connection badge (hidden while healthy) and the notice for refused changes.

const badge = document.querySelector("#badge");
const notice = document.querySelector("#notice");
let noticeTimer;

/** Shows what is wrong with sync, or hides the badge when nothing is. */
export function showBadge(status) {
  const pending = status.pending === 1 ? "1 change" : `${status.pending} changes`;
  let text = null;
  let tone = "warn";
  if (status.storeError) {
    text = `Cannot save locally: ${status.storeError}`;
    tone = "error";
  } else if (status.status === "unauthorized") {
    text = `Not signed in: ${status.unauthorized}${status.pending > 0 ? ` · ${pending} kept on this device` : ""}`;
    tone = "error";
  } else if (status.status === "offline") {
    text = status.pending > 0 ? `Offline · ${pending} kept on this device` : "Offline";
  } else if (status.status === "backoff") {
    const seconds = Math.max(0, Math.round(((status.nextRetryAt ?? Date.now()) - Date.now()) / 1000));
    text = `Connection lost · retrying in ${seconds}s`;
  } else if (status.status !== "online") {
    text = "Connecting…";
  } else if (!status.serverAcks) {
    text = "Connected to a server without acks";
  } else if (status.pending > 0 && (status.oldestPendingMs ?? 0) > 2000) {
    text = `Saving ${pending}…`;
  }
  badge.hidden = text === null;
  badge.textContent = text ?? "";
  badge.dataset.state = status.status;
  badge.className = tone;
}

/** A notice that stays a few seconds (a refused change, a refused token). */
export function showNotice(text) {
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.hidden = true;
  }, 8000);
}
