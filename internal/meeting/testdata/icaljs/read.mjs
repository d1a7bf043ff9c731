// Reads an iCalendar file with ical.js, as Thunderbird does, and prints
// each event as JSON: times as UTC instants, after the file's own VTIMEZONE
// is registered, so a wrong time zone block shows as a wrong instant.
import ICAL from 'ical.js';
import fs from 'fs';

const comp = new ICAL.Component(ICAL.parse(fs.readFileSync(process.argv[2], 'utf8')));
for (const tz of comp.getAllSubcomponents('vtimezone')) {
  ICAL.TimezoneService.register(tz);
}
const events = comp.getAllSubcomponents('vevent').map((ve) => {
  const e = new ICAL.Event(ve);
  return {
    uid: e.uid,
    sequence: e.sequence,
    status: ve.getFirstPropertyValue('status'),
    start: e.startDate.toJSDate().toISOString(),
    end: e.endDate.toJSDate().toISOString(),
    tzid: e.startDate.zone ? e.startDate.zone.tzid : '',
    summary: e.summary,
    location: e.location || '',
    url: ve.getFirstPropertyValue('url') || '',
  };
});
process.stdout.write(JSON.stringify(events));
