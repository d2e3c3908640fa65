"""On-call schedules over a snapshot: who is on call, shifts, calendars and lint findings."""
