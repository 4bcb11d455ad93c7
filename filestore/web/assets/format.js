// Human-readable sizes, speeds, dates and durations for the file browser.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 → "1.5 KiB" (powers of 1024, named as the CLI names them). */
export function humanSize(bytes) {
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Bytes per second → "2.0 MiB/s". */
export function humanSpeed(bytesPerSecond) {
  return `${humanSize(bytesPerSecond)}/s`;
}

/** An ISO-8601 time → a short local date and time ("2 Dec 2026, 14:05"). */
export function humanDate(iso, locale = undefined) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(locale, {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

/** Seconds → "3 days", "1 hour", "45 minutes", "20 seconds" (the largest whole unit). */
export function humanDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  for (const [name, size] of units) {
    if (s >= size) {
      const n = Math.floor(s / size);
      return `${n} ${name}${n === 1 ? "" : "s"}`;
    }
  }
  return "0 seconds";
}

/** How long until `iso` from `now` (a Date): "in 2 hours", or "expired". */
export function timeLeft(iso, now = new Date()) {
  const seconds = (new Date(iso).getTime() - now.getTime()) / 1000;
  return seconds <= 0 ? "expired" : `in ${humanDuration(seconds)}`;
}

/** Used of quota as a whole percentage, 0–100. */
export function percent(used, total) {
  if (!total) return 0;
  return Math.min(100, Math.max(0, Math.round((used / total) * 100)));
}
