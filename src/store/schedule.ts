/**
 * Recurring schedules, the adapter-neutral part: checking a cron expression or an
 * interval, and computing fire times. Cron parsing is croner's, with IANA time zones, so
 * daylight-saving changes follow Vixie cron as croner documents it: a fixed-time job
 * (e.g. "30 2 * * *") whose local time falls in the spring-forward gap runs at the first
 * valid time after it, and runs once when the time repeats in autumn. Croner counts a
 * job with a list or range in its hour or minute (e.g. "30 2,14 * * *") as an interval
 * job: in the gap such a time is skipped, and in a repeated hour it runs twice.
 */
import { Cron } from 'croner';
import { validation } from './errors.js';

export interface ScheduleTiming {
  cron: string | null;
  intervalSeconds: number | null;
  timezone: string;
}

export function checkTimezone(timezone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw validation(`timezone "${timezone}" is not an IANA time zone name (e.g. Europe/Berlin)`, 'timezone');
  }
  return timezone;
}

const NICKNAMES = /^@(yearly|annually|monthly|weekly|daily|hourly)$/i;

export function checkCron(cron: string, timezone: string): Cron {
  const fields = cron.trim().split(/\s+/);
  if (!NICKNAMES.test(cron.trim()) && (fields.length < 5 || fields.length > 6)) {
    throw validation(`cron "${cron}" must have 5 fields (minute hour day month weekday) or 6 (with seconds first)`, 'cron');
  }
  let job: Cron;
  try {
    job = new Cron(cron, { timezone, paused: true });
  } catch (e) {
    throw validation(`cron "${cron}" is not valid: ${(e as Error).message}`, 'cron');
  }
  if (!job.nextRun()) throw validation(`cron "${cron}" never fires (e.g. a day that no month has)`, 'cron');
  return job;
}

/** The first fire strictly after `after` (ms), or null if the expression never fires again. */
export function nextFire(timing: ScheduleTiming, after: number, anchor: number): number | null {
  if (timing.intervalSeconds !== null) {
    const step = timing.intervalSeconds * 1000;
    // Interval fires sit on a fixed grid from the anchor, so restarts do not drift them.
    const k = Math.floor((after - anchor) / step) + 1;
    return anchor + Math.max(1, k) * step;
  }
  const next = checkCron(timing.cron!, timing.timezone).nextRun(new Date(after));
  return next ? next.getTime() : null;
}
