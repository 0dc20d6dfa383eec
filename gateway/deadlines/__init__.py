"""Deadlines in working days: the calendar and limits loaded from config/, the due dates given at
acceptance (by the intake, through `gateway.domain.deadlines`), and the reminders units get on their
queue through the transactional outbox, each (case, threshold) once."""
